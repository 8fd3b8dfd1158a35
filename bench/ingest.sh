#!/usr/bin/env bash
# bench/ingest.sh: how fast seqstore ingests and serves sequencing data,
# next to the standard tools doing the same work on the same files.
#
# It simulates paired Illumina reads (art_illumina) on the chrX shipped with
# Debian's smalt-examples, gzips them, aligns them into a coordinate-sorted
# BAM (minimap2 + samtools sort), caches all that under the output directory,
# then measures, with a seqstore built from this tree and restarted per phase:
#
#   FASTQ ingest   boto3 direct upload (100 MiB parts, 10 in flight, SOURCE1
#                  and SOURCE2), Complete, poll until ACTIVE
#                  vs seqkit stats on both files + gzip -dc | md5sum of each
#   BAM ingest     the same for the BAM (with a referenceArn)
#                  vs samtools view | md5sum + samtools index + samtools flagstat
#   download       GetReadSet of every part of SOURCE1, 10 parts in parallel
#                  vs cat of the stored file, both from disk (the file
#                  dropped from the page cache first; medians of 3 runs
#                  each, taking turns) and from the page cache
#   peak RSS       the server's VmHWM in each phase
#
# and checks that the read set metadata agrees with the tools (read and base
# counts, ETags) and that downloads are byte-identical. With --encrypt the
# store is created with sseConfig, so everything is encrypted at rest; run it
# with and without to see what encryption costs. See bench/README.md.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: bench/ingest.sh [--small] [--encrypt] [--out DIR] [--coverage X] [--seqstore BINARY] [--keep]

  --small         tens of MB of reads on a 10 Mbp slice of chrX: about a
                  minute, to check the script itself
  --encrypt       keep the read sets in a store encrypted at rest (sseConfig,
                  with a throw-away keyring); results go to results-MODE-encrypted.txt
  --out DIR       cache and work directory (default: bench/out)
  --coverage X    art_illumina fold coverage (default 8 on the whole chrX,
                  about 1.2 GB of FASTQ; 2 with --small)
  --seqstore BIN  seqstore binary to run (default: go build ./cmd/seqstore)
  --keep          keep the server's data directory afterwards
  --data-only     build (or find) the cached data set and stop
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=full
OUT=""
COVERAGE=""
SEQSTORE_BIN=""
KEEP=0
DATA_ONLY=0
ENCRYPT=0
while [ $# -gt 0 ]; do
	case "$1" in
	--small) MODE=small ;;
	--encrypt) ENCRYPT=1 ;;
	--out) OUT=$2; shift ;;
	--coverage) COVERAGE=$2; shift ;;
	--seqstore) SEQSTORE_BIN=$2; shift ;;
	--keep) KEEP=1 ;;
	--data-only) DATA_ONLY=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "ingest.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -z "$COVERAGE" ]; then
	if [ "$MODE" = small ]; then COVERAGE=2; else COVERAGE=8; fi
fi

REGION=us-east-1
# BAM and CRAM read sets need a reference ARN; seqstore takes one of the
# right form without a reference store behind it.
REFERENCE_ARN="arn:aws:omics:$REGION:123456789012:referenceStore/1234567890/reference/1234567890"
THREADS=2
# GetReadSet and cat from disk each run this many times, taking turns.
COLD_ROUNDS=3
HELPER=(python3 "$ROOT/bench/omics_bench.py")

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "ingest.sh: $*" >&2; exit 1; }

for tool in art_illumina minimap2 samtools seqkit gzip md5sum python3 go; do
	command -v "$tool" >/dev/null || die "$tool is missing (Debian: art-nextgen-simulation-tools, minimap2, samtools, seqkit)"
done
python3 -c 'import boto3' 2>/dev/null || die "python3 lacks boto3"
GZIP=gzip
command -v pigz >/dev/null && GZIP=pigz

# now_ns and seconds_between time things in nanoseconds without a subshell
# per step beyond date's.
now_ns() { date +%s%N; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# ratio A B prints A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# at_least X Y prints PASS when X >= Y, else MISS.
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "PASS" : "MISS" }'; }
# median X...: the middle value (the upper middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# ---------------------------------------------------------------- data set

find_reference() {
	local files ref
	files=$(dpkg -L smalt-examples 2>/dev/null | grep -E '\.(fa|fasta)(\.gz)?$' || true)
	[ -n "$files" ] || die "smalt-examples is not installed (apt-get install smalt-examples)"
	ref=$(grep -i 'chrx' <<<"$files" | head -n1 || true)
	if [ -z "$ref" ]; then
		# No chrX: the largest reference it ships.
		ref=$(xargs ls -S <<<"$files" | head -n1)
	fi
	echo "$ref"
}

DATA="$OUT/data-$MODE-cov$COVERAGE"
R1="$DATA/reads_1.fq.gz"
R2="$DATA/reads_2.fq.gz"
BAM="$DATA/reads.bam"

make_data() {
	if [ -f "$DATA/done" ]; then
		log "data set: cached in $DATA"
		return
	fi
	local src ref
	src=$(find_reference)
	rm -rf "$DATA"
	mkdir -p "$DATA"
	log "data set: reference $src"
	if [[ $src == *.gz ]]; then gzip -dc "$src" >"$DATA/full.fa"; else cp "$src" "$DATA/full.fa"; fi
	samtools faidx "$DATA/full.fa"
	ref="$DATA/ref.fa"
	if [ "$MODE" = small ]; then
		# A 10 Mbp slice keeps simulation, indexing and alignment to seconds.
		local name
		name=$(cut -f1 "$DATA/full.fa.fai" | head -n1)
		samtools faidx "$DATA/full.fa" "$name:20000001-30000000" >"$ref"
		rm "$DATA/full.fa" "$DATA/full.fa.fai"
	else
		mv "$DATA/full.fa" "$ref"
		rm "$DATA/full.fa.fai"
	fi

	log "data set: art_illumina -ss HS25 -p -l 150 -f $COVERAGE -m 300 -s 30"
	local t0
	t0=$(now_ns)
	art_illumina -ss HS25 -i "$ref" -p -l 150 -f "$COVERAGE" -m 300 -s 30 -rs 42 -na -q -o "$DATA/reads" >"$DATA/art.log" 2>&1
	echo "   $(seconds_between "$t0" "$(now_ns)") s" >&2

	log "data set: $GZIP -1 both mates"
	t0=$(now_ns)
	"$GZIP" -1 -c "$DATA/reads1.fq" >"$R1" &
	"$GZIP" -1 -c "$DATA/reads2.fq" >"$R2" &
	wait
	local fastq_bytes
	fastq_bytes=$(($(stat -c %s "$DATA/reads1.fq") + $(stat -c %s "$DATA/reads2.fq")))
	rm "$DATA/reads1.fq" "$DATA/reads2.fq"
	echo "   $(seconds_between "$t0" "$(now_ns)") s; $(mib "$fastq_bytes") MiB of FASTQ" >&2
	if [ "$MODE" = full ] && [ "$fastq_bytes" -lt 1000000000 ]; then
		die "only $fastq_bytes bytes of FASTQ at coverage $COVERAGE: raise --coverage"
	fi

	log "data set: minimap2 -ax sr -t$THREADS | samtools sort -@$THREADS"
	t0=$(now_ns)
	minimap2 -ax sr -t"$THREADS" "$ref" "$R1" "$R2" 2>"$DATA/minimap2.log" |
		samtools sort -@"$THREADS" -m 512M -o "$BAM" - 2>"$DATA/sort.log"
	echo "   $(seconds_between "$t0" "$(now_ns)") s" >&2
	echo "$fastq_bytes" >"$DATA/fastq_bytes"
	touch "$DATA/done"
}

# ---------------------------------------------------------------- server

RUN=$MODE
if [ "$ENCRYPT" = 1 ]; then RUN=$MODE-encrypted; fi
WORK="$OUT/run-$RUN"
KEYRING_ARGS=()
SERVER_DATA="$WORK/seqstore-data"
SERVER_LOG="$WORK/seqstore.log"
SERVER_PID=""
ENDPOINT=""

start_server() {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	ENDPOINT="http://127.0.0.1:$port"
	"$SEQSTORE_BIN" serve -addr "127.0.0.1:$port" -data "$SERVER_DATA" "${KEYRING_ARGS[@]}" >>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 300); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			tail -n 30 "$SERVER_LOG" >&2
			die "seqstore exited at start (log above)"
		fi
		if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; then
			return
		fi
		sleep 0.1
	done
	die "seqstore did not listen on $ENDPOINT within 30 s"
}

. "$ROOT/bench/lib/procmem.sh"

# peak_rss_bytes prints the server's high-water RSS (VmHWM) since it
# started, its work process's added (see peak_rss_tree).
peak_rss_bytes() { peak_rss_tree "$SERVER_PID"; }

stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}

cleanup() {
	stop_server
	if [ "$KEEP" = 0 ] && [ -n "${WORK:-}" ]; then rm -rf "$SERVER_DATA"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- checks

FAILED_CHECKS=0
check() { # check WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		printf '   ok    %-44s %s\n' "$1" "$2"
	else
		printf '   FAIL  %-44s got %s, want %s\n' "$1" "$2" "$3"
		FAILED_CHECKS=$((FAILED_CHECKS + 1))
	fi
}
# jget FILE FILTER: one value from a JSON file.
jget() { jq -r "$2" "$1"; }

warm() { cat "$@" >/dev/null; }

# ---------------------------------------------------------------- run

make_data
fastq_bytes=$(cat "$DATA/fastq_bytes")
# Other work on the machine skews every timing: say how busy it was.
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$DATA_ONLY" = 1 ]; then
	ls -l "$DATA"
	exit 0
fi

log "building seqstore"
rm -rf "$WORK"
mkdir -p "$WORK"
if [ -z "$SEQSTORE_BIN" ]; then
	SEQSTORE_BIN="$WORK/seqstore"
	(cd "$ROOT" && go build -o "$SEQSTORE_BIN" ./cmd/seqstore)
fi
SSE_ARGS=()
if [ "$ENCRYPT" = 1 ]; then
	"$SEQSTORE_BIN" admin keyring add -keyring "$WORK/keyring" default >/dev/null
	KEYRING_ARGS=(-keyring "$WORK/keyring")
	SSE_ARGS=(--sse)
fi
GETREADSET="$WORK/getreadset"
(cd "$ROOT" && go build -o "$GETREADSET" ./bench/getreadset)
export SEQSTORE_ACCESS_KEY_ID="AKIASEQSTOREBENCH001"
SEQSTORE_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
export SEQSTORE_SECRET_ACCESS_KEY

# ---- FASTQ
log "FASTQ: the tools (seqkit stats on both, gzip -dc | md5sum on each)"
warm "$R1" "$R2"
t0=$(now_ns)
seqkit stats -T -j "$THREADS" "$R1" "$R2" >"$WORK/seqkit.tsv"
t1=$(now_ns)
md5_r1=$(gzip -dc "$R1" | md5sum | cut -d' ' -f1)
t2=$(now_ns)
md5_r2=$(gzip -dc "$R2" | md5sum | cut -d' ' -f1)
t3=$(now_ns)
fq_seqkit=$(seconds_between "$t0" "$t1")
fq_md5_1=$(seconds_between "$t1" "$t2")
fq_md5_2=$(seconds_between "$t2" "$t3")
fq_tools_seq=$(seconds_between "$t0" "$t3")
t0=$(now_ns)
seqkit stats -T -j "$THREADS" "$R1" "$R2" >/dev/null &
gzip -dc "$R1" | md5sum >/dev/null &
gzip -dc "$R2" | md5sum >/dev/null &
wait
fq_tools_par=$(seconds_between "$t0" "$(now_ns)")
echo "   seqkit stats $fq_seqkit s, md5 R1 $fq_md5_1 s, md5 R2 $fq_md5_2 s: sequential $fq_tools_seq s, all at once $fq_tools_par s" >&2

log "FASTQ: seqstore ingest"
warm "$R1" "$R2"
start_server
store_id=$("${HELPER[@]}" --endpoint "$ENDPOINT" create-store bench "${SSE_ARGS[@]}" | jq -r .id)
"${HELPER[@]}" --endpoint "$ENDPOINT" ingest --store "$store_id" --type FASTQ \
	--source1 "$R1" --source2 "$R2" --name bench-fastq >"$WORK/fastq.json"
rss_fastq=$(peak_rss_bytes)
stop_server
fq_seqstore=$(jget "$WORK/fastq.json" '.seconds * 1000 | round / 1000')
fastq_rs=$(jget "$WORK/fastq.json" .readSetId)
echo "   $fq_seqstore s (upload $(jget "$WORK/fastq.json" '.upload_seconds * 1000 | round / 1000') s, complete to ACTIVE $(jget "$WORK/fastq.json" '(.complete_seconds + .activate_seconds) * 1000 | round / 1000') s); peak RSS $(mib "$rss_fastq") MiB" >&2

# ---- BAM
log "BAM: the tools (samtools view | md5sum, samtools index, samtools flagstat)"
warm "$BAM"
t0=$(now_ns)
md5_bam=$(samtools view -@"$THREADS" "$BAM" | md5sum | cut -d' ' -f1)
t1=$(now_ns)
samtools index -@"$THREADS" "$BAM" "$WORK/reads.bam.bai"
t2=$(now_ns)
samtools flagstat -@"$THREADS" "$BAM" >"$WORK/flagstat.txt"
t3=$(now_ns)
bam_view=$(seconds_between "$t0" "$t1")
bam_index=$(seconds_between "$t1" "$t2")
bam_flagstat=$(seconds_between "$t2" "$t3")
bam_tools_seq=$(seconds_between "$t0" "$t3")
t0=$(now_ns)
samtools view -@"$THREADS" "$BAM" | md5sum >/dev/null &
samtools index -@"$THREADS" "$BAM" "$WORK/reads.par.bai" &
samtools flagstat -@"$THREADS" "$BAM" >/dev/null &
wait
bam_tools_par=$(seconds_between "$t0" "$(now_ns)")
echo "   view|md5sum $bam_view s, index $bam_index s, flagstat $bam_flagstat s: sequential $bam_tools_seq s, all at once $bam_tools_par s" >&2

log "BAM: seqstore ingest"
warm "$BAM"
start_server
"${HELPER[@]}" --endpoint "$ENDPOINT" ingest --store "$store_id" --type BAM \
	--source1 "$BAM" --reference-arn "$REFERENCE_ARN" --name bench-bam >"$WORK/bam.json"
rss_bam=$(peak_rss_bytes)
stop_server
bam_seqstore=$(jget "$WORK/bam.json" '.seconds * 1000 | round / 1000')
bam_rs=$(jget "$WORK/bam.json" .readSetId)
echo "   $bam_seqstore s (upload $(jget "$WORK/bam.json" '.upload_seconds * 1000 | round / 1000') s, complete to ACTIVE $(jget "$WORK/bam.json" '(.complete_seconds + .activate_seconds) * 1000 | round / 1000') s); peak RSS $(mib "$rss_bam") MiB" >&2

# ---- download
# stored_file READSET PATTERN: the file seqstore keeps for one source of a
# read set, under its data directory (the object key holds the read set ID).
stored_file() {
	find "$SERVER_DATA" -type f -path "*/$1/*" -name "$2" 2>/dev/null | head -n1
}

# content_md5 KIND FILE: the checksum of what a file holds rather than its
# bytes: the decompressed FASTQ, or the BAM's records as SAM, to tell a
# download with the same data in other bytes from one with other data.
content_md5() {
	if [ "$1" = fastq ]; then gzip -dc "$2" | md5sum | cut -d' ' -f1; else samtools view -@"$THREADS" "$2" | md5sum | cut -d' ' -f1; fi
}

log "download: seqstore GetReadSet (SOURCE1, parts in parallel) and cat of the stored file"
start_server
declare -A dl_discard dl_go dl_file disk_cat dl_bytes disk_path dl_cold disk_cold
# evict FILE: drop FILE's pages from the page cache (POSIX_FADV_DONTNEED
# through dd), so the next reader gets it from the device.
evict() { sync "$1"; dd if="$1" iflag=nocache count=0 status=none; }
for kind in fastq bam; do
	if [ "$kind" = fastq ]; then
		rs=$fastq_rs original=$R1 want_md5=$md5_r1 pattern='*source1*'
	else
		rs=$bam_rs original=$BAM want_md5=$md5_bam pattern='*.bam'
	fi
	"${HELPER[@]}" --endpoint "$ENDPOINT" download --store "$store_id" --readset "$rs" --out /dev/null >"$WORK/dl-$kind-null.json"
	"$GETREADSET" -endpoint "$ENDPOINT" -store "$store_id" -readset "$rs" -out /dev/null >"$WORK/dl-$kind-go.json"
	"$GETREADSET" -endpoint "$ENDPOINT" -store "$store_id" -readset "$rs" -out "$WORK/dl-$kind" >"$WORK/dl-$kind-file.json"
	dl_bytes[$kind]=$(jget "$WORK/dl-$kind-null.json" .bytes)
	dl_discard[$kind]=$(jget "$WORK/dl-$kind-null.json" .seconds)
	dl_go[$kind]=$(jget "$WORK/dl-$kind-go.json" .seconds)
	dl_file[$kind]=$(jget "$WORK/dl-$kind-file.json" .seconds)
	disk_path[$kind]=$(stored_file "$rs" "$pattern")
	if [ -z "${disk_path[$kind]}" ]; then
		check "$kind source1 found under the data directory" missing present
		disk_path[$kind]=$original
	else
		if [ "$ENCRYPT" = 1 ]; then
			check "$kind stored file is encrypted" "$(head -c 7 "${disk_path[$kind]}")" SQCRYPT
		else
			check "$kind stored file = GetReadSet bytes" "$(cmp -s "$WORK/dl-$kind" "${disk_path[$kind]}" && echo identical || echo different)" identical
		fi
	fi
	if cmp -s "$WORK/dl-$kind" "$original"; then
		same="identical bytes"
	elif [ "$(content_md5 "$kind" "$WORK/dl-$kind")" = "$want_md5" ]; then
		same="same content"
	else
		same="different content"
	fi
	# Compressed uploads are kept as they arrived: FASTQ.gz and BAM alike.
	check "$kind download = upload" "$same" "identical bytes"
	rm -f "$WORK/dl-$kind"
	cat "${disk_path[$kind]}" >/dev/null
	t0=$(now_ns)
	cat "${disk_path[$kind]}" >/dev/null
	disk_cat[$kind]=$(seconds_between "$t0" "$(now_ns)")
	# From disk: the stored file is dropped from the page cache before each
	# reader, so seqstore and cat both read it from the device. The first
	# read from the device after a while took 1.5-4 times as long as the
	# next ones (the virtual disk's host caches too), so one untimed read
	# goes first; then the two take turns, COLD_ROUNDS times each, and
	# their medians are compared.
	evict "${disk_path[$kind]}"
	cat "${disk_path[$kind]}" >/dev/null
	go_runs=() cat_runs=()
	for round in $(seq 1 "$COLD_ROUNDS"); do
		for reader in go cat; do
			# Alternate who reads first in a round.
			if [ $((round % 2)) = 0 ]; then reader=$([ "$reader" = go ] && echo cat || echo go); fi
			evict "${disk_path[$kind]}"
			if [ "$reader" = go ]; then
				"$GETREADSET" -endpoint "$ENDPOINT" -store "$store_id" -readset "$rs" -out /dev/null >"$WORK/dl-$kind-cold.json"
				go_runs+=("$(jget "$WORK/dl-$kind-cold.json" .seconds)")
			else
				t0=$(now_ns)
				cat "${disk_path[$kind]}" >/dev/null
				cat_runs+=("$(seconds_between "$t0" "$(now_ns)")")
			fi
		done
	done
	dl_cold[$kind]=$(median "${go_runs[@]}")
	disk_cold[$kind]=$(median "${cat_runs[@]}")
done
rss_download=$(peak_rss_bytes)
stop_server

# ---- correctness
# at_rest N: the size a file of N bytes takes at rest: N, or encrypted an
# 84-byte header and a 16-byte tag per 64 KiB chunk (and one on the last).
at_rest() {
	if [ "$ENCRYPT" = 1 ]; then echo $(($1 + 84 + ($1 / 65536 + 1) * 16)); else echo "$1"; fi
}
log "checks: read set metadata against the tools"
# seqkit stats -T columns: file format type num_seqs sum_len ...
read -r n1 s1 < <(awk -F'\t' -v f="$R1" '$1 == f { print $4, $5 }' "$WORK/seqkit.tsv")
read -r n2 s2 < <(awk -F'\t' -v f="$R2" '$1 == f { print $4, $5 }' "$WORK/seqkit.tsv")
fq=$WORK/fastq.json
check "FASTQ status" "$(jget "$fq" .metadata.status)" ACTIVE
check "FASTQ totalReadCount = seqkit num_seqs R1+R2" "$(jget "$fq" .metadata.sequenceInformation.totalReadCount)" "$((n1 + n2))"
check "FASTQ totalBaseCount = seqkit sum_len R1+R2" "$(jget "$fq" .metadata.sequenceInformation.totalBaseCount)" "$((s1 + s2))"
check "FASTQ etag.source1 = gzip -dc R1 | md5sum" "$(jget "$fq" .metadata.etag.source1)" "$md5_r1"
check "FASTQ etag.source2 = gzip -dc R2 | md5sum" "$(jget "$fq" .metadata.etag.source2)" "$md5_r2"
check "FASTQ source1 contentLength = stored size" "$(at_rest "$(jget "$fq" .metadata.files.source1.contentLength)")" "$(stat -c %s "${disk_path[fastq]}")"
check "FASTQ has source2" "$(jget "$fq" '.metadata.files.source2.contentLength > 0')" true
fq_stored=$(jget "$fq" '.metadata.files.source1.contentLength + .metadata.files.source2.contentLength')
fq_uploaded=$(($(stat -c %s "$R1") + $(stat -c %s "$R2")))
fq_space=$(awk -v s="$fq_stored" -v u="$fq_uploaded" 'BEGIN { printf "%.4f", s / u }')
check "FASTQ stored / uploaded <= 1.00" "$(awk -v r="$fq_space" 'BEGIN { print (r <= 1) ? "yes" : "no (" r ")" }')" yes

primary=$(samtools view -@"$THREADS" -c -F 0x900 "$BAM")
primary_bases=$(samtools view -@"$THREADS" -F 0x900 "$BAM" | awk -F'\t' '$10 != "*" { n += length($10) } END { print n + 0 }')
bm=$WORK/bam.json
check "BAM status" "$(jget "$bm" .metadata.status)" ACTIVE
check "BAM totalReadCount = samtools view -c -F 0x900" "$(jget "$bm" .metadata.sequenceInformation.totalReadCount)" "$primary"
check "BAM totalBaseCount = primary SEQ lengths" "$(jget "$bm" .metadata.sequenceInformation.totalBaseCount)" "$primary_bases"
check "BAM etag.source1 = samtools view | md5sum" "$(jget "$bm" .metadata.etag.source1)" "$md5_bam"
check "BAM source1 contentLength = stored size" "$(at_rest "$(jget "$bm" .metadata.files.source1.contentLength)")" "$(stat -c %s "${disk_path[bam]}")"
check "BAM has an index file" "$(jget "$bm" '.metadata.files.index != null')" true
check "BAM referenceArn echoed" "$(jget "$bm" .metadata.referenceArn)" "$REFERENCE_ARN"

# ---- report
fq_speedup=$(ratio "$fq_tools_seq" "$fq_seqstore")
fq_speedup_par=$(ratio "$fq_tools_par" "$fq_seqstore")
bam_speedup=$(ratio "$bam_tools_seq" "$bam_seqstore")
bam_speedup_par=$(ratio "$bam_tools_par" "$bam_seqstore")
rss_max=$rss_fastq
for r in "$rss_bam" "$rss_download"; do [ "$r" -gt "$rss_max" ] && rss_max=$r; done
rss_verdict=$(awk -v b="$rss_max" 'BEGIN { print (b < 300 * 1048576) ? "PASS" : "MISS" }')

{
	echo
	echo "seqstore ingest/download benchmark ($RUN mode), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, page cache warm for every reader unless said otherwise"
	echo "load average at start: $load_at_start, at end: $(cut -d' ' -f1-3 /proc/loadavg) (other processes skew timings)"
	echo "data: $(mib "$fastq_bytes") MiB FASTQ ($(mib "$(stat -c %s "$R1")") + $(mib "$(stat -c %s "$R2")") MiB gzipped, $((n1 + n2)) reads), BAM $(mib "$(stat -c %s "$BAM")") MiB ($primary primary records); art_illumina coverage $COVERAGE"
	echo "speed-up = tools time / seqstore time (higher is better for seqstore); tools run one after another (seq) or all at once (par)"
	echo "FASTQ space: stored $fq_stored bytes / uploaded $fq_uploaded bytes = $fq_space"
	echo
	printf '%-15s %-12s %-22s %-16s %-9s %s\n' phase seqstore "tools seq / par" "speed-up seq/par" target verdict
	printf '%-15s %-12s %-22s %-16s %-9s %s\n' "FASTQ ingest" "$fq_seqstore s" "$fq_tools_seq / $fq_tools_par s" "${fq_speedup}x / ${fq_speedup_par}x" ">=2x" "$(at_least "$fq_speedup" 2)"
	printf '%-15s %-12s %-22s %-16s %-9s %s\n' "BAM ingest" "$bam_seqstore s" "$bam_tools_seq / $bam_tools_par s" "${bam_speedup}x / ${bam_speedup_par}x" ">=1.5x" "$(at_least "$bam_speedup" 1.5)"
	echo
	echo "download MiB/s: GetReadSet, all parts of SOURCE1, 10 in flight, by boto3 and by a Go client (bench/getreadset), to /dev/null and to a file"
	echo "(the Go file is the one compared with the upload); ratio = the faster client to /dev/null / cat of the stored file"
	printf '%-15s %-10s %-10s %-10s %-10s %-10s %-9s %s\n' file MiB boto3 Go "Go->file" cat ratio "(page cache)"
	for kind in fastq bam; do
		b=${dl_bytes[$kind]}
		rate() { awk -v b="$b" -v s="$1" 'BEGIN { printf "%.0f", b / 1048576 / (s > 0 ? s : 1e-9) }'; }
		boto=$(rate "${dl_discard[$kind]}")
		gonull=$(rate "${dl_go[$kind]}")
		gofile=$(rate "${dl_file[$kind]}")
		disk=$(rate "${disk_cat[$kind]}")
		best=$boto
		[ "$gonull" -gt "$best" ] && best=$gonull
		r=$(ratio "$best" "$disk")
		printf '%-15s %-10s %-10s %-10s %-10s %-10s %-9s\n' "$kind source1" "$(mib "$b")" "$boto" "$gonull" "$gofile" "$disk" "${r}x"
	done
	echo
	echo "download from disk MiB/s: the stored file dropped from the page cache before each reader; Go client to /dev/null vs cat,"
	echo "medians of $COLD_ROUNDS runs each, taking turns, after one untimed read from the device"
	printf '%-15s %-10s %-10s %-10s %-9s %s\n' file MiB Go cat ratio "target >=0.8x"
	for kind in fastq bam; do
		b=${dl_bytes[$kind]}
		gocold=$(rate "${dl_cold[$kind]}")
		catcold=$(rate "${disk_cold[$kind]}")
		r=$(ratio "$gocold" "$catcold")
		printf '%-15s %-10s %-10s %-10s %-9s %s\n' "$kind source1" "$(mib "$b")" "$gocold" "$catcold" "${r}x" "$(at_least "$r" 0.8)"
	done
	echo
	echo "peak server RSS (VmHWM, restarted per phase): FASTQ $(mib "$rss_fastq") MiB, BAM $(mib "$rss_bam") MiB, download $(mib "$rss_download") MiB; target < 300 MiB: $rss_verdict"
	echo "stored files read by cat: ${disk_path[fastq]#"$OUT"/}, ${disk_path[bam]#"$OUT"/}"
	echo "checks failed: $FAILED_CHECKS"
} | tee "$OUT/results-$RUN.txt"

[ "$FAILED_CHECKS" = 0 ]

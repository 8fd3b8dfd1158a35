#!/usr/bin/env bash
# bench/jobs.sh: how fast seqstore's import and export jobs move data
# between an S3-compatible server and the store, next to what a user would do
# without them, on the same files in the same run.
#
# The data set is bench/ingest.sh's (paired FASTQ.gz and a coordinate-sorted
# BAM of art_illumina reads on chrX), made or found with --data-only. The
# files are put in a bucket of a versitygw on loopback, then:
#
#   import   StartReadSetImportJob of the FASTQ pair, then of the BAM, each
#            timed until the job is COMPLETED, while GetSequenceStore is
#            called every 20 ms and timed (the API's latency under import)
#            vs aws s3 cp of the same objects to local disk, then the tools
#            doing the same work as ingestion (seqkit stats + gzip -dc |
#            md5sum; samtools view | md5sum + samtools index + flagstat)
#   export   StartReadSetExportJob of both read sets to the bucket, timed
#            until COMPLETED, vs aws s3 cp of the stored files up to the
#            bucket
#   peak memory  the largest summed PSS of the server and its work process,
#            sampled every 100 ms; and the sum of their VmHWM, an upper
#            bound that counts the pages they share twice
#
# and checks that imported counts and ETags match the tools' and that the
# exported objects equal the stored files. See bench/README.md.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: bench/jobs.sh [--small] [--out DIR] [--seqstore BINARY]

  --small         the small data set of bench/ingest.sh --small (a minute),
                  to check the script itself
  --out DIR       cache and work directory (default: bench/out)
  --coverage X    art_illumina fold coverage, as bench/ingest.sh takes it
  --seqstore BIN  seqstore binary to run (default: go build ./cmd/seqstore)
USAGE
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SMALL=()
COVERAGE=()
MODE=full
OUT=""
SEQSTORE_BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--small) SMALL=(--small); MODE=small ;;
	--out) OUT=$2; shift ;;
	--coverage) COVERAGE=(--coverage "$2"); shift ;;
	--seqstore) SEQSTORE_BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "jobs.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "jobs.sh: $*" >&2; exit 1; }
now_ns() { date +%s%N; }
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "PASS" : "MISS" }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "MISS" }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

for tool in aws samtools seqkit gzip md5sum python3 go jq; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done
export PATH="$(go env GOPATH)/bin:$PATH"
command -v versitygw >/dev/null || die "versitygw is missing (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"

log "data set (bench/ingest.sh --data-only)"
"$ROOT/bench/ingest.sh" "${SMALL[@]}" "${COVERAGE[@]}" --out "$OUT" --data-only >"$OUT/jobs-data.log"
# Where bench/ingest.sh keeps the data set (its default coverage: 2 with
# --small, 8 without).
cov=${COVERAGE[1]:-}
[ -n "$cov" ] || { [ "$MODE" = small ] && cov=2 || cov=8; }
DATA="$OUT/data-$MODE-cov$cov"
[ -f "$DATA/done" ] || die "no data set in $DATA (see $OUT/jobs-data.log)"
R1="$DATA/reads_1.fq.gz"
R2="$DATA/reads_2.fq.gz"
BAM="$DATA/reads.bam"
REFERENCE_ARN="arn:aws:omics:us-east-1:123456789012:referenceStore/1234567890/reference/1234567890"
THREADS=2

WORK="$OUT/jobs-$MODE"
rm -rf "$WORK"
mkdir -p "$WORK/s3" "$WORK/local"
SERVER_PID=""
S3_PID=""
PROBE_PID=""
cleanup() {
	[ -n "$PROBE_PID" ] && kill -TERM "$PROBE_PID" 2>/dev/null && wait "$PROBE_PID" 2>/dev/null
	[ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	[ -n "$S3_PID" ] && kill -TERM "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
. "$ROOT/bench/lib/loopback.sh"

log "S3 server (versitygw on loopback) and the bucket"
start_versitygw
s3 mb s3://bench >/dev/null
s3 cp --quiet "$R1" s3://bench/in/reads_1.fq.gz
s3 cp --quiet "$R2" s3://bench/in/reads_2.fq.gz
s3 cp --quiet "$BAM" s3://bench/in/reads.bam

log "building and starting seqstore"
if [ -z "$SEQSTORE_BIN" ]; then
	SEQSTORE_BIN="$WORK/seqstore"
	(cd "$ROOT" && go build -o "$SEQSTORE_BIN" ./cmd/seqstore)
fi
export SEQSTORE_ACCESS_KEY_ID="AKIASEQSTOREBENCH002"
SEQSTORE_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
export SEQSTORE_SECRET_ACCESS_KEY
cat >"$WORK/locations.json" <<JSON
{"buckets": [{"name": "bench", "endpoint": "$S3_ENDPOINT", "region": "us-east-1",
  "accessKeyId": "$S3_KEY", "secretAccessKey": "$S3_SECRET", "pathStyle": true}]}
JSON
chmod 600 "$WORK/locations.json"
PORT=$(free_port)
ADMIN_PORT=$(free_port)
ENDPOINT="http://127.0.0.1:$PORT"
ADMIN="http://127.0.0.1:$ADMIN_PORT"
"$SEQSTORE_BIN" serve -addr "127.0.0.1:$PORT" -admin-addr "127.0.0.1:$ADMIN_PORT" -data "$WORK/seqstore-data" -locations "$WORK/locations.json" >"$WORK/seqstore.log" 2>&1 &
SERVER_PID=$!
wait_port "$PORT"
start_pss_sampler "$SERVER_PID" "$WORK/pss-peak"
HELPER=(python3 "$ROOT/bench/omics_bench.py" --endpoint "$ENDPOINT")
store=$("${HELPER[@]}" create-store bench | jq -r .id)

log "import: aws s3 cp to local disk, then the tools"
t0=$(now_ns)
s3 cp --quiet s3://bench/in/reads_1.fq.gz "$WORK/local/r1.fq.gz"
s3 cp --quiet s3://bench/in/reads_2.fq.gz "$WORK/local/r2.fq.gz"
t1=$(now_ns)
# (wait names its children: a bare wait would wait for the servers too.)
seqkit stats -T -j "$THREADS" "$WORK/local/r1.fq.gz" "$WORK/local/r2.fq.gz" >"$WORK/seqkit.tsv" &
p1=$!
gzip -dc "$WORK/local/r1.fq.gz" | md5sum | cut -d' ' -f1 >"$WORK/md5_r1" &
p2=$!
gzip -dc "$WORK/local/r2.fq.gz" | md5sum | cut -d' ' -f1 >"$WORK/md5_r2" &
wait $p1 $p2 $!
t2=$(now_ns)
fq_copy=$(seconds_between "$t0" "$t1")
fq_tools=$(seconds_between "$t0" "$t2")
t0=$(now_ns)
s3 cp --quiet s3://bench/in/reads.bam "$WORK/local/reads.bam"
t1=$(now_ns)
samtools view -@"$THREADS" "$WORK/local/reads.bam" | md5sum | cut -d' ' -f1 >"$WORK/md5_bam" &
p1=$!
samtools index -@"$THREADS" "$WORK/local/reads.bam" "$WORK/local/reads.bam.bai" &
p2=$!
samtools flagstat -@"$THREADS" "$WORK/local/reads.bam" >"$WORK/flagstat.txt" &
wait $p1 $p2 $!
t2=$(now_ns)
bam_copy=$(seconds_between "$t0" "$t1")
bam_tools=$(seconds_between "$t0" "$t2")
echo "   FASTQ: copy $fq_copy s, copy + tools $fq_tools s; BAM: copy $bam_copy s, copy + tools $bam_tools s" >&2

log "import: StartReadSetImportJob until COMPLETED"
# The API's latency during the imports is measured by a Go probe sending
# GetSequenceStore every 20 ms on one connection: a Python client's own CPU
# on these busy cores would be measured as the server's latency.
(cd "$ROOT" && go build -o "$WORK/loadgen" ./bench/loadgen)
"$WORK/loadgen" -probe -endpoint "$ENDPOINT" -id "$store" >"$WORK/probe.json" &
PROBE_PID=$!
"${HELPER[@]}" import-job --no-probe --admin "$ADMIN" --store "$store" --type FASTQ --source1 s3://bench/in/reads_1.fq.gz --source2 s3://bench/in/reads_2.fq.gz --name fastq >"$WORK/fq.json"
"${HELPER[@]}" import-job --no-probe --admin "$ADMIN" --store "$store" --type BAM --source1 s3://bench/in/reads.bam --reference-arn "$REFERENCE_ARN" --name bam >"$WORK/bam.json"
kill -INT "$PROBE_PID"
wait "$PROBE_PID"
PROBE_PID=""
fq_import=$(jq -r '.seconds * 1000 | round / 1000' "$WORK/fq.json")
bam_import=$(jq -r '.seconds * 1000 | round / 1000' "$WORK/bam.json")
api_p99=$(jq -r '.p99Ms * 100 | round / 100' "$WORK/probe.json")
api_calls=$(jq -r '"\(.calls) calls, p50 \(.p50Ms) ms, max \(.maxMs) ms, \(.errors) errors"' "$WORK/probe.json")
server_p99=$(jq -s -r 'map(.serverP99BoundMs // 0) | max' "$WORK/fq.json" "$WORK/bam.json")
echo "   FASTQ $fq_import s, BAM $bam_import s; GetSequenceStore p99 during the imports: $api_p99 ms at the client ($api_calls), at most $server_p99 ms in the server" >&2

FAILED_CHECKS=0
check() {
	if [ "$2" = "$3" ]; then printf '   ok    %-40s %s\n' "$1" "$2"; else
		printf '   FAIL  %-40s got %s, want %s\n' "$1" "$2" "$3"; FAILED_CHECKS=$((FAILED_CHECKS + 1)); fi
}
log "checks"
check "FASTQ reads" "$(jq -r .readCount "$WORK/fq.json")" "$(awk 'NR > 1 { n += $4 } END { print n }' "$WORK/seqkit.tsv")"
check "FASTQ bases" "$(jq -r .baseCount "$WORK/fq.json")" "$(awk 'NR > 1 { n += $5 } END { print n }' "$WORK/seqkit.tsv")"
check "FASTQ ETag source1" "$(jq -r .etag.source1 "$WORK/fq.json")" "$(cat "$WORK/md5_r1")"
check "FASTQ ETag source2" "$(jq -r .etag.source2 "$WORK/fq.json")" "$(cat "$WORK/md5_r2")"
check "BAM ETag" "$(jq -r .etag.source1 "$WORK/bam.json")" "$(cat "$WORK/md5_bam")"
check "BAM reads (primary)" "$(jq -r .readCount "$WORK/bam.json")" "$(samtools view -c -F 0x900 "$WORK/local/reads.bam")"

log "export: aws s3 cp of the stored files up to the bucket"
fq_rs=$(jq -r .readSetId "$WORK/fq.json")
bam_rs=$(jq -r .readSetId "$WORK/bam.json")
stored=$(find "$WORK/seqstore-data" -type f \( -path "*/$fq_rs/*" -o -path "*/$bam_rs/*" \) | sort)
cat $stored >/dev/null
t0=$(now_ns)
for f in $stored; do s3 cp --quiet "$f" "s3://bench/cp-out/$(basename "$(dirname "$f")")/$(basename "$f")"; done
cp_up=$(seconds_between "$t0" "$(now_ns)")
stored_bytes=$(cat $stored | wc -c)
"${HELPER[@]}" export-job --store "$store" --destination s3://bench/export/ --readset "$fq_rs" --readset "$bam_rs" >"$WORK/export.json"
export_s=$(jq -r '.seconds * 1000 | round / 1000' "$WORK/export.json")
echo "   aws s3 cp $cp_up s, export job $export_s s, $(mib "$stored_bytes") MiB" >&2
for f in $stored; do
	rs=$(basename "$(dirname "$f")")
	check "exported $(basename "$f")" "$(s3 cp --quiet "s3://bench/export/$rs/$(basename "$f")" - | md5sum | cut -d' ' -f1)" "$(md5sum <"$f" | cut -d' ' -f1)"
done
rss=$(peak_rss_tree "$SERVER_PID")
pss=$(cat "$WORK/pss-peak")

fq_ratio=$(ratio "$fq_tools" "$fq_import")
bam_ratio=$(ratio "$bam_tools" "$bam_import")
ex_ratio=$(ratio "$cp_up" "$export_s")
log "result ($(nproc) cores, load at start $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-30s %10s %10s %8s %8s %s\n' what seqstore baseline ratio target verdict
printf '%-30s %9ss %9ss %7sx %8s %s\n' "FASTQ import vs cp + tools" "$fq_import" "$fq_tools" "$fq_ratio" ">=1.5x" "$(at_least "$fq_ratio" 1.5)"
printf '%-30s %9ss %9ss %7sx %8s %s\n' "BAM import vs cp + tools" "$bam_import" "$bam_tools" "$bam_ratio" ">=1.5x" "$(at_least "$bam_ratio" 1.5)"
printf '%-30s %9ss %9ss %7sx %8s %s\n' "export vs aws s3 cp" "$export_s" "$cp_up" "$ex_ratio" ">=0.8x" "$(at_least "$ex_ratio" 0.8)"
printf '%-30s %9sms %10s %8s %8s %s\n' "GetSequenceStore p99 (client)" "$api_p99" "" "" "<10ms" "$(at_most "$api_p99" 10)"
printf '%-30s %9sms %10s %8s %8s %s\n' "GetSequenceStore p99 (server)" "<=$server_p99" "" "" "<10ms" "$(at_most "$server_p99" 10)"
printf '%-30s %8sMiB %10s %8s %8s %s\n' "server peak memory (PSS)" "$(mib "$pss")" "" "" "<300MiB" "$(at_most "$(mib "$pss")" 300)"
printf '%-30s %8sMiB %10s %8s %8s %s\n' "  sum of VmHWM (upper bound)" "$(mib "$rss")" "" "" "" ""
[ "$FAILED_CHECKS" = 0 ] || die "$FAILED_CHECKS checks failed"

#!/usr/bin/env bash
# bench/space.sh: how many bytes seqstore keeps for a FASTQ, next to what
# was uploaded and to what bgzip makes of the same reads.
#
# It simulates paired Illumina reads with art_illumina on a slice of the
# chrX that Debian's smalt-examples ships, twice: with art's own read names
# and renamed as an Illumina instrument names them
# (@A00488:61:HMLGNDSXX:4:TILE:X:Y 1:N:0:INDEX). Each mate-1 file is
# uploaded, with `seqstore upload -wait`, plain, `gzip -6`, `gzip -1`,
# `bgzip` (level 6) and as two gzip members, and the read set's contentLength
# is set against the uploaded size and against `bgzip -c`'s size. Every
# compressed upload must come back byte for byte (the script compares the
# download). See bench/README.md.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: bench/space.sh [--out DIR] [--mbp N] [--coverage X] [--seqstore BINARY]

  --out DIR       work directory (default: bench/out)
  --mbp N         length of the chrX slice reads are simulated on (default 2)
  --coverage X    art_illumina fold coverage (default 10: about 22 MB of FASTQ per mate)
  --seqstore BIN  seqstore binary to run (default: go build ./cmd/seqstore)
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=""
MBP=2
COVERAGE=10
SEQSTORE_BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=$2; shift ;;
	--mbp) MBP=$2; shift ;;
	--coverage) COVERAGE=$2; shift ;;
	--seqstore) SEQSTORE_BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "space.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
die() { echo "space.sh: $*" >&2; exit 1; }
for tool in art_illumina samtools gzip bgzip python3 go; do
	command -v "$tool" >/dev/null || die "$tool is missing (Debian: art-nextgen-simulation-tools, samtools, tabix)"
done

WORK="$OUT/space"
rm -rf "$WORK"
mkdir -p "$WORK"
if [ -z "$SEQSTORE_BIN" ]; then
	SEQSTORE_BIN="$WORK/seqstore"
	(cd "$ROOT" && go build -o "$SEQSTORE_BIN" ./cmd/seqstore)
fi

ref=$(dpkg -L smalt-examples 2>/dev/null | grep -iE 'chrx.*\.fa(sta)?(\.gz)?$' | head -n1 || true)
[ -n "$ref" ] || die "smalt-examples is not installed (apt-get install smalt-examples)"
gzip -dc -f "$ref" >"$WORK/full.fa"
samtools faidx "$WORK/full.fa"
name=$(cut -f1 "$WORK/full.fa.fai" | head -n1)
samtools faidx "$WORK/full.fa" "$name:30000001-$((30000000 + MBP * 1000000))" >"$WORK/slice.fa"
rm "$WORK/full.fa" "$WORK/full.fa.fai"
art_illumina -ss HS25 -i "$WORK/slice.fa" -p -l 150 -f "$COVERAGE" -m 300 -s 30 -rs 7 -na -q -o "$WORK/art" >/dev/null 2>&1
mv "$WORK/art1.fq" "$WORK/art.fq"
rm -f "$WORK/art2.fq"
# The same reads under names an Illumina instrument gives: a long prefix
# shared by every read, then the tile and the cluster's coordinates.
awk 'NR % 4 == 1 { n = (NR - 1) / 4; printf "@A00488:61:HMLGNDSXX:4:%d:%d:%d 1:N:0:CGAGGCTG+CTCCTTAC\n", 1101 + int(n / 40000) % 78, 1000 + (n * 37) % 30000, 1000 + (n * 53) % 36000; next } { print }' \
	"$WORK/art.fq" >"$WORK/illumina.fq"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SEQSTORE_ACCESS_KEY_ID="AKIASEQSTORESPACE001"
SEQSTORE_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
export SEQSTORE_SECRET_ACCESS_KEY
"$SEQSTORE_BIN" serve -addr "127.0.0.1:$port" -data "$WORK/data" >"$WORK/seqstore.log" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
export AWS_ACCESS_KEY_ID=$SEQSTORE_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SEQSTORE_SECRET_ACCESS_KEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_OMICS="http://127.0.0.1:$port"
export AWS_DISABLE_HOST_PREFIX_INJECTION=true
for _ in $(seq 1 100); do
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
	sleep 0.1
done
store=$(python3 - <<'EOF'
import boto3, botocore.config, os
c = boto3.client("omics", endpoint_url=os.environ["AWS_ENDPOINT_URL_OMICS"], config=botocore.config.Config(inject_host_prefix=False))
print(c.create_sequence_store(name="space")["id"])
EOF
)
# content_length READSET: the stored SOURCE1's contentLength.
content_length() {
	python3 - "$store" "$1" <<'EOF'
import boto3, botocore.config, os, sys
c = boto3.client("omics", endpoint_url=os.environ["AWS_ENDPOINT_URL_OMICS"], config=botocore.config.Config(inject_host_prefix=False))
print(c.get_read_set_metadata(sequenceStoreId=sys.argv[1], id=sys.argv[2])["files"]["source1"]["contentLength"])
EOF
}

failed=0
printf '%-9s %-18s %12s %12s %14s %16s %s\n' names upload uploaded stored "stored/upload" "stored/bgzip -c" download
for reads in art illumina; do
	fq=$WORK/$reads.fq
	bgzip -c "$fq" >"$WORK/$reads.bgzip.fq.gz"
	bgzip_size=$(stat -c %s "$WORK/$reads.bgzip.fq.gz")
	gzip -6 -c "$fq" >"$WORK/$reads.gzip6.fq.gz"
	gzip -1 -c "$fq" >"$WORK/$reads.gzip1.fq.gz"
	half=$(($(wc -l <"$fq") / 8 * 4))
	{ head -n "$half" "$fq" | gzip -6; tail -n +"$((half + 1))" "$fq" | gzip -6; } >"$WORK/$reads.multi.fq.gz"
	for form in plain gzip6 gzip1 bgzip multi; do
		case $form in
		plain) file=$fq label="plain" ;;
		gzip6) file=$WORK/$reads.gzip6.fq.gz label="gzip -6" ;;
		gzip1) file=$WORK/$reads.gzip1.fq.gz label="gzip -1" ;;
		bgzip) file=$WORK/$reads.bgzip.fq.gz label="bgzip" ;;
		multi) file=$WORK/$reads.multi.fq.gz label="2 gzip -6 members" ;;
		esac
		id=$("$SEQSTORE_BIN" upload -store "$store" -subject s -sample s -name "$reads-$form" -no-check -wait -quiet "$file" 2>"$WORK/upload.err" | tail -n1 | awk '{ print $1 }')
		[ -n "$id" ] || die "upload of $file failed (log: $WORK/seqstore.log)"
		stored=$(content_length "$id")
		uploaded=$(stat -c %s "$file")
		rm -rf "$WORK/dl"
		mkdir "$WORK/dl"
		"$SEQSTORE_BIN" download -store "$store" -o "$WORK/dl" -quiet "$id" >/dev/null 2>"$WORK/download.err" ||
			die "download of $id failed: $(tail -n 3 "$WORK/download.err")"
		got=$(find "$WORK/dl" -type f | head -n1)
		if [ "$form" = plain ]; then
			verdict=$([ "$(gzip -dc "$got" | md5sum)" = "$(md5sum <"$fq")" ] && echo "same reads" || echo "DIFFERENT READS")
		else
			verdict=$(cmp -s "$got" "$file" && echo identical || echo DIFFERENT)
			awk -v s="$stored" -v u="$uploaded" 'BEGIN { exit !(s > u) }' && verdict="$verdict, LARGER THAN THE UPLOAD"
		fi
		case $verdict in *DIFFERENT* | *LARGER*) failed=1 ;; esac
		printf '%-9s %-18s %12d %12d %14.4f %16.4f %s\n' "$reads" "$label" "$uploaded" "$stored" \
			"$(awk -v s="$stored" -v u="$uploaded" 'BEGIN { print s / u }')" "$(awk -v s="$stored" -v b="$bgzip_size" 'BEGIN { print s / b }')" "$verdict"
	done
done
exit $failed

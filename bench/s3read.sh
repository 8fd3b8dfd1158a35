#!/usr/bin/env bash
# bench/s3read.sh: how fast seqstore's S3 read endpoint serves a stored BAM,
# next to versitygw serving the same file from disk, in one run.
#
# It makes an unaligned BAM of random 150-base reads of about --size MiB,
# uploads it into a seqstore store (UBAM), and puts the same file in a
# versitygw bucket on loopback. Then bench/s3read (a Go program) reads the
# object through both endpoints, taking turns: random 64 KiB ranges over
# 16 keep-alive connections for --duration (requests/s), and whole-object
# GETs (MiB/s), each request signed with SigV4 for s3. It reports the best
# of the rounds and seqstore's ratio to versitygw (target: at least 0.9x),
# and the server's peak RSS. See bench/README.md.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: bench/s3read.sh [--size MIB] [--conns N] [--duration D] [--rounds N] [--out DIR] [--seqstore BINARY]

  --size MIB      the BAM's size, about (default 1024)
  --conns N       connections reading ranges at once (default 16)
  --duration D    each round of ranged GETs, a Go duration (default 10s)
  --rounds N      rounds, the two servers taking turns in each (default 2)
  --out DIR       cache and work directory (default: bench/out)
  --seqstore BIN  seqstore binary to run (default: go build ./cmd/seqstore)
USAGE
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE_MIB=1024
CONNS=16
DURATION=10s
ROUNDS=2
OUT=""
SEQSTORE_BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE_MIB=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--seqstore) SEQSTORE_BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "s3read.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "s3read.sh: $*" >&2; exit 1; }
for tool in aws samtools python3 go jq; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done
export PATH="$(go env GOPATH)/bin:$PATH"
command -v versitygw >/dev/null || die "versitygw is missing (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"

BAM="$OUT/s3read-$SIZE_MIB.bam"
if [ ! -f "$BAM" ]; then
	log "making an unaligned BAM of about $SIZE_MIB MiB"
	# Random bases and qualities compress to about 158 bytes a read.
	python3 - "$((SIZE_MIB * 1048576 / 158))" <<'PY' | samtools import -@2 -O bam -0 /dev/stdin -o "$BAM.tmp"
import os, sys
bases = bytes.maketrans(bytes(range(256)), b"ACGT" * 64)
quals = bytes.maketrans(bytes(range(256)), bytes(range(53, 85)) * 8)
out = sys.stdout.buffer
for i in range(int(sys.argv[1])):
    out.write(b"@r%d\n%s\n+\n%s\n" % (i, os.urandom(150).translate(bases), os.urandom(150).translate(quals)))
PY
	mv "$BAM.tmp" "$BAM"
fi
SIZE=$(stat -c %s "$BAM")

WORK="$OUT/s3read-work"
rm -rf "$WORK"
mkdir -p "$WORK/s3"
. "$ROOT/bench/lib/loopback.sh"
trap stop_servers EXIT

log "versitygw on loopback, the BAM in a bucket"
start_versitygw
s3 mb s3://bench >/dev/null
s3 cp --quiet "$BAM" s3://bench/reads.bam

log "seqstore with its S3 endpoint, the BAM uploaded"
SEQ_S3_PORT=$(free_port)
start_seqstore AKIASEQSTOREBENCH003 -s3-addr "127.0.0.1:$SEQ_S3_PORT"
wait_port "$SEQ_S3_PORT"
export AWS_ACCESS_KEY_ID=$SEQSTORE_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SEQSTORE_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_OMICS="http://127.0.0.1:$PORT" AWS_DISABLE_HOST_PREFIX_INJECTION=true
store=$(aws omics create-sequence-store --endpoint-url "$AWS_ENDPOINT_URL_OMICS" --name bench --query id --output text)
"$SEQSTORE_BIN" upload -quiet -no-check -type UBAM -store "$store" -subject s -sample s -name bench -wait "$BAM" >"$WORK/upload.log" 2>&1 || die "upload failed: $(cat "$WORK/upload.log")"
rs=$(aws omics list-read-sets --endpoint-url "$AWS_ENDPOINT_URL_OMICS" --sequence-store-id "$store" --query 'readSets[0].id' --output text)
uri=$(aws omics get-read-set-metadata --endpoint-url "$AWS_ENDPOINT_URL_OMICS" --sequence-store-id "$store" --id "$rs" --query files.source1.s3Access.s3Uri --output text)
bucket=${uri#s3://}
key=${bucket#*/}
bucket=${bucket%%/*}
echo "   $uri ($SIZE bytes)" >&2

log "ranged and whole GETs, taking turns"
(cd "$ROOT" && go run ./bench/s3read -size "$SIZE" -conns "$CONNS" -duration "$DURATION" -rounds "$ROUNDS" \
	-target "versitygw=$S3_ENDPOINT,bench,reads.bam,$S3_KEY,$S3_SECRET" \
	-target "seqstore=http://127.0.0.1:$SEQ_S3_PORT,$bucket,$key,$SEQSTORE_ACCESS_KEY_ID,$SEQSTORE_SECRET_ACCESS_KEY")
echo "seqstore peak RSS: $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"

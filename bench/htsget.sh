#!/usr/bin/env bash
# bench/htsget.sh: how fast samtools reads regions of a stored BAM through
# seqstore's htsget tickets, next to samtools reading the same regions of
# the same file from versitygw over s3+http, in one run.
#
# It uploads a coordinate-sorted BAM into a seqstore store (which indexes
# it), puts the same BAM and its BAI in a versitygw bucket on loopback, and
# draws random regions of --length bases from the BAM's references with a
# fixed seed. For each region, taking turns (which side goes first
# alternates), it times
#
#   htsget   samtools view -c of the ticket URL, with a bearer token from
#            `seqstore admin token create` in the file HTS_AUTH_LOCATION
#            names: htslib asks for the ticket, follows its URLs and counts
#            the records. A ticket may hold records outside the region (the
#            specification allows it), so samtools keeps those that overlap
#            it with a filter expression.
#   s3+http  samtools view -c s3+http://bucket/reads.bam REGION against
#            versitygw: htslib reads the BAI (once: it keeps a copy in its
#            working directory, as it does for any remote index) and the
#            BGZF blocks by ranged GETs.
#
# Both counts must agree for every region. It reports each side's total
# wall time and seqstore's ratio (s3+http time / htsget time; target: at
# least 1x), with the load average. See bench/README.md.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: bench/htsget.sh [--bam FILE] [--regions N] [--length BP] [--seed N] [--out DIR] [--seqstore BINARY]

  --bam FILE      a coordinate-sorted BAM (default: the ingest bench's
                  data set, OUT/data-full-cov8/reads.bam; make it with
                  bench/ingest.sh --data-only)
  --regions N     regions to read (default 100)
  --length BP     each region's length (default 10000)
  --seed N        the random regions' seed (default 13)
  --out DIR       cache and work directory (default: bench/out)
  --seqstore BIN  seqstore binary to run (default: go build ./cmd/seqstore)
USAGE
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BAM=""
REGIONS=100
LENGTH=10000
SEED=13
OUT=""
SEQSTORE_BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--bam) BAM=$2; shift ;;
	--regions) REGIONS=$2; shift ;;
	--length) LENGTH=$2; shift ;;
	--seed) SEED=$2; shift ;;
	--out) OUT=$2; shift ;;
	--seqstore) SEQSTORE_BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "htsget.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$ROOT/bench/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BAM=${BAM:-$OUT/data-full-cov8/reads.bam}

log() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "htsget.sh: $*" >&2; exit 1; }
for tool in aws samtools python3 go; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done
export PATH="$(go env GOPATH)/bin:$PATH"
command -v versitygw >/dev/null || die "versitygw is missing (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)"
[ -f "$BAM" ] || die "no BAM at $BAM: pass --bam FILE, or make the data set with bench/ingest.sh --data-only"
BAM=$(cd "$(dirname "$BAM")" && pwd)/$(basename "$BAM")
now_ns() { date +%s%N; }

WORK="$OUT/htsget-work"
rm -rf "$WORK"
mkdir -p "$WORK/s3" "$WORK/s3client"
. "$ROOT/bench/lib/loopback.sh"
trap stop_servers EXIT

log "$REGIONS random regions of $LENGTH bases (seed $SEED) of $BAM ($(stat -c %s "$BAM") bytes)"
samtools view -H "$BAM" | python3 -c '
import random, sys, urllib.parse
n, length, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
refs = []
for line in sys.stdin:
    if line.startswith("@SQ"):
        f = dict(x.split(":", 1) for x in line.rstrip("\n").split("\t")[1:])
        if int(f["LN"]) > length:
            refs.append((f["SN"], int(f["LN"])))
if not refs:
    sys.exit("no reference is longer than a region")
rng = random.Random(seed)
weights = [ln for _, ln in refs]
for _ in range(n):
    name, ln = rng.choices(refs, weights)[0]
    start = rng.randrange(ln - length)
    # The name, the name as a query parameter, the region.
    print(name, urllib.parse.quote(name, safe=""), start, start + length)
' "$REGIONS" "$LENGTH" "$SEED" >"$WORK/regions"

log "versitygw on loopback, the BAM and its BAI in a bucket"
samtools index "$BAM" "$WORK/reads.bam.bai"
start_versitygw
s3 mb s3://bench >/dev/null
s3 cp --quiet "$BAM" s3://bench/reads.bam
s3 cp --quiet "$WORK/reads.bam.bai" s3://bench/reads.bam.bai

log "seqstore, the BAM uploaded and indexed, a bearer token"
start_seqstore AKIASEQSTOREBENCH004
ENDPOINT="http://127.0.0.1:$PORT"
omics() {
	AWS_ACCESS_KEY_ID=$SEQSTORE_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SEQSTORE_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 \
		AWS_DISABLE_HOST_PREFIX_INJECTION=true aws omics --endpoint-url "$ENDPOINT" "$@"
}
store=$(omics create-sequence-store --name bench --query id --output text)
AWS_ACCESS_KEY_ID=$SEQSTORE_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SEQSTORE_SECRET_ACCESS_KEY AWS_REGION=us-east-1 AWS_ENDPOINT_URL_OMICS=$ENDPOINT \
	"$SEQSTORE_BIN" upload -quiet -no-check -type BAM -store "$store" -subject s -sample s -name bench -wait \
	-reference-arn "arn:aws:omics:us-east-1:123456789012:referenceStore/1234567890/reference/1234567890" "$BAM" >"$WORK/upload.log" 2>&1 ||
	die "upload failed: $(cat "$WORK/upload.log")"
rs=$(omics list-read-sets --sequence-store-id "$store" --query 'readSets[0].id' --output text)
account=$("$SEQSTORE_BIN" admin account list -data "$WORK/seqstore-data" | awk 'NR == 2 { print $1 }')
(umask 077 && "$SEQSTORE_BIN" admin token create -data "$WORK/seqstore-data" -account "$account" -ttl 2h -name bench | tail -n 1 >"$WORK/token")
echo "   read set $rs of account $account" >&2

# htsget_count REF QUOTED_REF START END: the records overlapping
# [START, END) of REF, through the ticket.
htsget_count() {
	HTS_AUTH_LOCATION="$WORK/token" HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER="I understand the risks" \
		samtools view -c -e "rname == \"$1\" && endpos > $3 && pos <= $4" \
		"$ENDPOINT/htsget/reads/$rs?referenceName=$2&start=$3&end=$4"
}
# s3_count REF START END: the same from versitygw.
s3_count() {
	(cd "$WORK/s3client" && HTS_S3_HOST=${S3_ENDPOINT#http://} HTS_S3_ADDRESS_STYLE=path \
		AWS_ACCESS_KEY_ID=$S3_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET AWS_DEFAULT_REGION=us-east-1 \
		samtools view -c s3+http://bench/reads.bam "$1:$(($2 + 1))-$3")
}

log "samtools view of each region, through htsget and over s3+http, taking turns"
uptime >&2
htsget_ns=0
s3_ns=0
records=0
i=0
while read -r ref quoted start end; do
	for side in $( ((i % 2)) && echo "s3 htsget" || echo "htsget s3"); do
		t0=$(now_ns)
		if [ "$side" = htsget ]; then
			h=$(htsget_count "$ref" "$quoted" "$start" "$end") || die "htsget: samtools failed for $ref:$start-$end"
			htsget_ns=$((htsget_ns + $(now_ns) - t0))
		else
			s=$(s3_count "$ref" "$start" "$end") || die "s3+http: samtools failed for $ref:$start-$end"
			s3_ns=$((s3_ns + $(now_ns) - t0))
		fi
	done
	[ "$h" = "$s" ] || die "$ref:$((start + 1))-$end: $h records through htsget, $s over s3+http"
	records=$((records + s))
	i=$((i + 1))
done <"$WORK/regions"
load=$(cut -d' ' -f1-3 /proc/loadavg)

awk -v n="$i" -v rec="$records" -v h="$htsget_ns" -v s="$s3_ns" -v la="$load" 'BEGIN {
	printf "%d regions, %d records, the same counts on both sides\n", n, rec
	printf "htsget   (samtools view -c of the ticket URL)   %7.2f s   %6.1f ms a region\n", h / 1e9, h / 1e6 / n
	printf "s3+http  (samtools view -c REGION, versitygw)  %7.2f s   %6.1f ms a region\n", s / 1e9, s / 1e6 / n
	printf "seqstore htsget / s3+http to versitygw: %.2fx its speed (load average %s)\n", s / h, la
}'
echo "seqstore peak RSS: $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"

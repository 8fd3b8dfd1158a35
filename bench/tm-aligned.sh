#!/usr/bin/env bash
# bench/tm-aligned.sh: AWS's own transfer manager (the Python package
# omics.transfer of awslabs' amazon-omics-tools) uploads an aligned BAM and
# a CRAM with the ARN of a reference imported into seqstore, and each read
# set must become ACTIVE with the ETag `samtools view -T REF | md5sum`
# gives. A check by hand, not a timing: the package is not on the Python
# registry, so CI cannot install it.
#
# Without --bam and --ref it aligns bowtie2's lambda phage example reads
# with minimap2, as the integration tests do. The CRAM is written by
# samtools from the BAM (CRAM 3.1).
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: bench/tm-aligned.sh --omics-tools DIR [--bam FILE --ref FASTA] [--seqstore BIN]

  --omics-tools DIR  a checkout of awslabs/amazon-omics-tools (the omics
                     package in DIR/omics); needs boto3 and s3transfer
  --bam FILE         a coordinate-sorted BAM aligned to --ref
  --ref FASTA        its reference, plain FASTA
  --seqstore BIN     seqstore binary to run (default: go build ./cmd/seqstore)
USAGE
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OMICS_TOOLS="" BAM="" REF="" BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--omics-tools) OMICS_TOOLS=$(cd "$2" && pwd); shift ;;
	--bam) BAM=$(realpath "$2"); shift ;;
	--ref) REF=$(realpath "$2"); shift ;;
	--seqstore) BIN=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "tm-aligned.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
die() { echo "tm-aligned.sh: $*" >&2; exit 1; }
[ -n "$OMICS_TOOLS" ] || { usage >&2; exit 2; }
for tool in aws python3 samtools; do
	command -v $tool >/dev/null || die "needs $tool"
done

WORK=$(mktemp -d)
SERVER=""
cleanup() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
# shellcheck source=lib/loopback.sh
. "$ROOT/bench/lib/loopback.sh"

if [ -z "$BAM" ]; then
	command -v minimap2 >/dev/null || die "needs minimap2 (or give --bam and --ref)"
	EX=/usr/share/doc/bowtie2/examples
	zcat "$EX/reference/lambda_virus.fa.gz" >"$WORK/lambda.fa"
	minimap2 -a -x sr -t 1 "$WORK/lambda.fa" "$EX/reads/reads_1.fq.gz" "$EX/reads/reads_2.fq.gz" 2>/dev/null |
		samtools sort -o "$WORK/lambda.bam" -
	BAM=$WORK/lambda.bam REF=$WORK/lambda.fa
fi
[ -n "$REF" ] || die "--bam needs --ref"
cp "$REF" "$WORK/ref.fa"
samtools view -C -T "$REF" -O cram,version=3.1 -o "$WORK/reads.cram" "$BAM"

if [ -z "$BIN" ]; then
	BIN=$WORK/seqstore
	(cd "$ROOT" && go build -o "$BIN" ./cmd/seqstore)
fi
PORT=$(free_port)
KEY=SQTM$(python3 -c 'import secrets; print(secrets.token_hex(6).upper())')
SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
SEQSTORE_ACCESS_KEY_ID=$KEY SEQSTORE_SECRET_ACCESS_KEY=$SECRET \
	"$BIN" serve -addr "127.0.0.1:$PORT" -data "$WORK/data" -file-root "$WORK" >"$WORK/serve.log" 2>&1 &
SERVER=$!
wait_port "$PORT"
export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
	AWS_ENDPOINT_URL_OMICS=http://127.0.0.1:$PORT AWS_DISABLE_HOST_PREFIX_INJECTION=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

# The reference, imported and waited on.
REF_STORE=$(aws omics create-reference-store --name tm-check --query id --output text)
JOB=$(aws omics start-reference-import-job --reference-store-id "$REF_STORE" \
	--role-arn arn:aws:iam::123456789012:role/seqstore-import \
	--sources "sourceFile=file://$WORK/ref.fa,name=reference" --query id --output text)
aws omics wait reference-import-job-completed --reference-store-id "$REF_STORE" --id "$JOB"
REF_ID=$(aws omics get-reference-import-job --reference-store-id "$REF_STORE" --id "$JOB" --query 'sources[0].referenceId' --output text)
REF_ARN=$(aws omics get-reference-metadata --reference-store-id "$REF_STORE" --id "$REF_ID" --query arn --output text)
STORE=$(aws omics create-sequence-store --name tm-check --query id --output text)
echo "reference $REF_ARN, sequence store $STORE"

mkdir -p "$WORK/tm-stubs/mypy_boto3_omics"
: >"$WORK/tm-stubs/mypy_boto3_omics/__init__.py"
echo "OmicsClient = object" >"$WORK/tm-stubs/mypy_boto3_omics/client.py"
failed=0
for pair in BAM:"$BAM" CRAM:"$WORK/reads.cram"; do
	type=${pair%%:*} file=${pair#*:}
	id=$(PYTHONPATH="$OMICS_TOOLS:$WORK/tm-stubs" python3 - "$STORE" "$type" "$file" "$REF_ARN" <<'PY'
import sys, boto3
from botocore.config import Config
from omics.transfer.manager import TransferManager
from omics.transfer.config import TransferConfig
store, file_type, path, ref = sys.argv[1:5]
manager = TransferManager(boto3.client("omics", config=Config(inject_host_prefix=False)), TransferConfig())
print(manager.upload_read_set(path, store, file_type, "tm-" + file_type.lower(), "s", "s", reference_arn=ref))
manager.shutdown()
PY
	)
	"$BIN" wait -quiet -store "$STORE" "$id" || true
	read -r status etag < <(aws omics get-read-set-metadata --sequence-store-id "$STORE" --id "$id" --query '[status, etag.source1]' --output text)
	want=$(samtools view -T "$REF" "$file" | md5sum | cut -d' ' -f1)
	if [ "$status" = ACTIVE ] && [ "$etag" = "$want" ]; then
		echo "$type: read set $id ACTIVE, ETag $etag as samtools gives"
	else
		echo "$type: read set $id $status, ETag $etag; samtools gives $want" >&2
		aws omics get-read-set-metadata --sequence-store-id "$STORE" --id "$id" --query statusMessage --output text >&2
		failed=1
	fi
done
exit $failed

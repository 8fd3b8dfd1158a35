#!/usr/bin/env bash
# bench/transfer.sh: how fast `seqstore upload` and `seqstore download` move
# a file, next to cat piped over loopback TCP (socat) doing the same copy.
#
# It makes a FASTQ file of random reads (cached under the output directory),
# starts a seqstore built from this tree on a free loopback port with a
# throw-away data directory, and takes turns, RUNS times each:
#
#   upload          seqstore upload -no-check: parts, checksums, Complete
#   upload+check    seqstore upload: the local check first, then the same
#   cat up          cat FILE | socat -> socat > COPY over 127.0.0.1
#   download        seqstore download: parallel parts, ETag verified
#   download -no-verify  the same, checking lengths only
#   cat down        the same pipe, from the stored file to a copy
#   tm up, tm down  with --omics-tools DIR: AWS's own transfer manager (the
#                   Python package omics.transfer of awslabs'
#                   amazon-omics-tools, from a checkout in DIR) uploading the
#                   same file and downloading the same read set's SOURCE1
#
# Every copy lands in a file on the same disk; each read set is waited on
# (untimed) until ACTIVE before the next step. It prints the medians and the
# ratios to cat. See bench/README.md.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: bench/transfer.sh [--size MiB] [--runs N] [--out DIR] [--seqstore BINARY]

  --size MiB      size of the FASTQ file (default 1024)
  --runs N        runs of each step, taking turns (default 3)
  --out DIR       cache and work directory (default: bench/out/transfer)
  --seqstore BIN  seqstore binary to run (default: go build ./cmd/seqstore)
  --omics-tools DIR  also time AWS's transfer manager, from a checkout of
                  awslabs/amazon-omics-tools in DIR (it needs boto3 and
                  s3transfer; its type-hint import of mypy_boto3_omics is
                  met by a stand-in module the script writes)
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE=1024
RUNS=3
OUT=""
BIN=""
OMICS_TOOLS=""
while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--seqstore) BIN=$2; shift ;;
	--omics-tools) OMICS_TOOLS=$(cd "$2" && pwd); shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "transfer.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
OUT=${OUT:-$ROOT/bench/out/transfer}
mkdir -p "$OUT"
for tool in socat aws python3; do
	command -v $tool >/dev/null || { echo "transfer.sh: needs $tool" >&2; exit 1; }
done

FQ=$OUT/reads_${SIZE}M.fq
if [ ! -s "$FQ" ]; then
	echo "making $FQ"
	python3 - "$FQ" "$SIZE" <<'PY'
import os, sys
path, size = sys.argv[1], int(sys.argv[2]) << 20
bases = bytes.maketrans(bytes(range(256)), b"ACGT" * 64)
quals = bytes.maketrans(bytes(range(256)), bytes(range(35, 75)) * 6 + bytes(range(35, 51)))
with open(path + ".tmp", "wb") as f:
    n, written = 0, 0
    while written < size:
        chunk = []
        for _ in range(10000):
            n += 1
            r = os.urandom(300)
            chunk.append(b"@read%d\n%s\n+\n%s\n" % (n, r[:150].translate(bases), r[150:].translate(quals)))
        b = b"".join(chunk)
        f.write(b)
        written += len(b)
os.rename(path + ".tmp", path)
PY
fi
BYTES=$(stat -c %s "$FQ")

if [ -z "$BIN" ]; then
	BIN=$OUT/seqstore
	(cd "$ROOT" && go build -o "$BIN" ./cmd/seqstore)
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
DATA=$(mktemp -d)
SERVER=""
cleanup() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
	rm -rf "$DATA" "$OUT/dl" "$OUT/cat.copy" "$OUT/tm"
}
trap cleanup EXIT
KEY=SQBENCH$(python3 -c 'import secrets; print(secrets.token_hex(6).upper())')
SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
SEQSTORE_ACCESS_KEY_ID=$KEY SEQSTORE_SECRET_ACCESS_KEY=$SECRET \
	"$BIN" serve -addr 127.0.0.1:$PORT -data "$DATA" >"$OUT/serve.log" 2>&1 &
SERVER=$!
export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
	AWS_ENDPOINT_URL_OMICS=http://127.0.0.1:$PORT AWS_DISABLE_HOST_PREFIX_INJECTION=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
for _ in $(seq 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
	sleep 0.1
done
STORE=$(aws omics create-sequence-store --name bench --query id --output text)

now() { date +%s.%N; }
# pipe SRC DST: cat SRC through socat over loopback TCP into DST.
pipe() {
	local port
	port=$(free_port)
	socat -u TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr CREATE:"$2" &
	local rx=$!
	for _ in $(seq 100); do
		ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN && break
		sleep 0.02
	done
	local t0
	t0=$(now)
	cat "$1" | socat -u STDIN TCP:127.0.0.1:$port
	wait $rx
	echo "$(now) - $t0" | bc
}
# timed CMD...: seconds CMD took.
timed() {
	local t0
	t0=$(now)
	"$@" >"$OUT/last.out"
	echo "$(now) - $t0" | bc
}

# tm up|down ...: AWS's transfer manager moving the same bytes, over the
# same endpoint and credentials (host prefixes off, as for the AWS CLI).
tm() {
	PYTHONPATH="$OMICS_TOOLS:$OUT/tm-stubs" python3 - "$@" <<'PY'
import sys, boto3
from botocore.config import Config
from omics.transfer.manager import TransferManager
from omics.transfer.config import TransferConfig
from omics.common.omics_file_types import ReadSetFileName
client = boto3.client("omics", config=Config(inject_host_prefix=False))
manager = TransferManager(client, TransferConfig())
if sys.argv[1] == "up":
    store, name, path = sys.argv[2:5]
    print(manager.upload_read_set(path, store, "FASTQ", name, "s", "s"))
else:
    store, readset, path = sys.argv[2:5]
    manager.download_read_set_file(store, readset, ReadSetFileName.SOURCE1, path)
manager.shutdown()
PY
}
STEPS=(upload upload+check "cat up" download "download -no-verify" "cat down")
if [ -n "$OMICS_TOOLS" ]; then
	mkdir -p "$OUT/tm-stubs/mypy_boto3_omics"
	: >"$OUT/tm-stubs/mypy_boto3_omics/__init__.py"
	echo "OmicsClient = object" >"$OUT/tm-stubs/mypy_boto3_omics/client.py"
	STEPS=(upload upload+check "tm up" "cat up" download "download -no-verify" "tm down" "cat down")
fi

declare -A times
add() { times[$1]="${times[$1]:-} $2"; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# One untimed read to start from the page cache, as every step does.
cat "$FQ" >/dev/null
ID=""
for run in $(seq "$RUNS"); do
	for step in upload upload+check; do
		flags=(-no-check)
		[ $step = upload+check ] && flags=()
		t=$(timed "$BIN" upload -quiet "${flags[@]}" -store "$STORE" -subject s -sample s -name "run$run-$step" "$FQ")
		ID=$(cat "$OUT/last.out")
		add "$step" "$t"
		"$BIN" wait -quiet -store "$STORE" "$ID"
		echo "run $run $step: $t s"
	done
	if [ -n "$OMICS_TOOLS" ]; then
		t=$(timed tm up "$STORE" "run$run-tm" "$FQ"); add "tm up" "$t"
		"$BIN" wait -quiet -store "$STORE" "$(tail -n1 "$OUT/last.out")"
		echo "run $run tm up: $t s"
	fi
	t=$(pipe "$FQ" "$OUT/cat.copy"); add "cat up" "$t"; echo "run $run cat up: $t s"
	rm -f "$OUT/cat.copy"

	rm -rf "$OUT/dl"; mkdir -p "$OUT/dl"
	t=$(timed "$BIN" download -quiet -store "$STORE" -file SOURCE1 -o "$OUT/dl" "$ID"); add download "$t"
	echo "run $run download: $t s"
	rm -rf "$OUT/dl"; mkdir -p "$OUT/dl"
	t=$(timed "$BIN" download -quiet -no-verify -store "$STORE" -file SOURCE1 -o "$OUT/dl" "$ID"); add "download -no-verify" "$t"
	echo "run $run download -no-verify: $t s"
	stored=$(find "$DATA" -type f -size "$(stat -c %s "$OUT"/dl/*)c" | head -1)
	DOWN_BYTES=$(stat -c %s "$stored")
	cmp "$stored" "$OUT"/dl/* || { echo "transfer.sh: the download differs from the stored file" >&2; exit 1; }
	if [ -n "$OMICS_TOOLS" ]; then
		# (It adds .gz to the name it is given when the bytes are gzip.)
		rm -rf "$OUT/tm"; mkdir -p "$OUT/tm"
		t=$(timed tm down "$STORE" "$ID" "$OUT/tm/copy"); add "tm down" "$t"
		cmp "$stored" "$OUT"/tm/copy* || { echo "transfer.sh: the transfer manager's download differs from the stored file" >&2; exit 1; }
		rm -rf "$OUT/tm"
		echo "run $run tm down: $t s"
	fi
	t=$(pipe "$stored" "$OUT/cat.copy"); add "cat down" "$t"; echo "run $run cat down: $t s"
	rm -f "$OUT/cat.copy"
done

mibs() { echo "scale=1; $1 / 1048576 / $2" | bc; }
echo
printf "%-20s %10s %10s %12s\n" step seconds "MiB/s" "vs cat"
for step in "${STEPS[@]}"; do
	m=$(median "${times[$step]}")
	b=$BYTES; base=$(median "${times[cat up]}")
	case $step in download* | "cat down" | "tm down") b=$DOWN_BYTES; base=$(median "${times[cat down]}") ;; esac
	printf "%-20s %10.2f %10s %11.2fx\n" "$step" "$m" "$(mibs "$b" "$m")" "$(echo "scale=3; $base / $m" | bc)"
done
echo "(upload: $BYTES bytes of FASTQ; download: the stored BGZF copy, $DOWN_BYTES bytes; medians of $RUNS runs)"
if [ -n "$OMICS_TOOLS" ]; then
	echo "vs AWS's transfer manager (its time / seqstore's): upload $(echo "scale=2; $(median "${times[tm up]}") / $(median "${times[upload]}")" | bc)x," \
		"download $(echo "scale=2; $(median "${times[tm down]}") / $(median "${times[download]}")" | bc)x (ETag verified), $(echo "scale=2; $(median "${times[tm down]}") / $(median "${times[download -no-verify]}")" | bc)x (-no-verify)"
fi

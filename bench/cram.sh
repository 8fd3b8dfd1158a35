#!/usr/bin/env bash
# CRAM benchmark, in two modes, on the coordinate-sorted BAM and reference
# that bench/ingest.sh makes (run that first, or its --data-only mode),
# with each profile's CRAM (3.0, 3.1 normal, 3.1 archive) written next to
# them. Not part of CI.
#
#   bench/cram.sh [DATA]           seqstore's decoder (decode, render SAM,
#                                  MD5, count, index, as `seqstore inspect`
#                                  does it) vs `samtools view -@2 -T ref |
#                                  md5sum`, per profile: times, ratios, RSS
#   bench/cram.sh --server [DATA]  a server: a reference import of the
#                                  bench reference (until COMPLETED) vs
#                                  `samtools faidx` + `md5sum`, taking
#                                  turns REF_ROUNDS (5) times, medians
#                                  compared; then each
#                                  CRAM uploaded against it until ACTIVE
#                                  (boto3, as bench/ingest.sh uploads) vs
#                                  `samtools view -@2 -T ref | md5sum` +
#                                  `samtools index` + `samtools flagstat
#                                  -@2` one after the other; the server's
#                                  peak RSS per profile (restarted for
#                                  each); counts and ETag checked against
#                                  samtools; SEQSTORE_SERVE_ARGS adds flags
#                                  to `seqstore serve`, CRAM_PROFILES picks
#                                  profiles ("3.0 3.1-normal 3.1-archive";
#                                  "none" for the reference import alone)
set -euo pipefail
cd "$(dirname "$0")/.."
server=0
if [ "${1:-}" = --server ]; then server=1; shift; fi
data=${1:-bench/out/data-full-cov8}
ref=$data/ref.fa
bam=$data/reads.bam
[ -f "$bam" ] && [ -f "$ref" ] || { echo "no $bam or $ref: run bench/ingest.sh --data-only first" >&2; exit 1; }
# Each profile's CRAM must be at least 150 MB, so that the run measures
# steady decoding rather than start-up. The ingest data set's BAM alone makes
# smaller CRAMs, and archive compresses hardest: a profile's CRAM is made from
# the BAM merged with itself 2, 3, ... times until it is big enough.
min_mib=${CRAM_MIN_MIB:-143} # 150 MB; CRAM_MIN_MIB=1 checks the script on small data
copies() { # copies N: the BAM merged N times with itself
  local out=$data/reads.x$1.bam
  if [ ! -f "$out" ]; then
    local args=() i
    for ((i = 0; i < $1; i++)); do args+=("$bam"); done
    samtools merge -@2 -f -o "$out" "${args[@]}"
  fi
  echo "$out"
}
bin=$(mktemp -d)/seqstore
go build -o "$bin" ./cmd/seqstore
timeit() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; }
profiles=("3.0:version=3.0" "3.1-normal:version=3.1,normal" "3.1-archive:version=3.1,archive")
if [ -n "${CRAM_PROFILES:-}" ]; then # e.g. CRAM_PROFILES="3.0 3.1-archive"
  chosen=()
  for p in "${profiles[@]}"; do [[ " $CRAM_PROFILES " == *" ${p%%:*} "* ]] && chosen+=("$p"); done
  profiles=("${chosen[@]}")
fi
# make_cram NAME OPTS: the profile's CRAM, made once and kept; prints its path.
make_cram() {
  local name=$1 opts=$2 cram=$data/reads.$1.cram n=2 size
  while :; do
    [ -f "$cram" ] || samtools view -@2 -T "$ref" -O "cram,$opts" -o "$cram" "$(copies $n)" 2>/dev/null
    size=$(( $(stat -c %s "$cram") / 1048576 ))
    [ "$size" -ge "$min_mib" ] && break
    [ "$n" -lt 8 ] || { echo "$name: CRAM of $size MiB from $n copies is still under 150 MB" >&2; exit 1; }
    echo "$name: CRAM of $size MiB is under 150 MB; remaking it from $((n + 1)) copies of the BAM" >&2
    rm -f "$cram"; n=$((n + 1))
  done
  echo "$name: CRAM is $(stat -c %s "$cram") bytes, at least $min_mib MiB" >&2
  echo "$cram"
}

# server_run: the --server mode.
server_run() {
  for tool in jq python3 md5sum; do command -v $tool >/dev/null || { echo "cram.sh: needs $tool" >&2; exit 1; }; done
  python3 -c 'import boto3' 2>/dev/null || { echo "cram.sh: python3 lacks boto3" >&2; exit 1; }
  work=$(mktemp -d)
  pid=""
  trap 'stop_server; rm -rf "$work"' EXIT
  export SEQSTORE_ACCESS_KEY_ID=AKIASEQSTOREBENCHCRAM
  SEQSTORE_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=' | head -c 40)
  export SEQSTORE_SECRET_ACCESS_KEY
  helper=(python3 bench/omics_bench.py)
  local root; root=$(realpath "$data")
  now_ns() { date +%s%N; }
  secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
  start_server() {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    endpoint=http://127.0.0.1:$port
    # shellcheck disable=SC2086 # SEQSTORE_SERVE_ARGS is a list of flags
    "$bin" serve -addr "127.0.0.1:$port" -data "$work/data" -file-root "$root" ${SEQSTORE_SERVE_ARGS:-} >>"$work/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do
      python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && return
      kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/serve.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "cram.sh: seqstore did not listen" >&2; exit 1
  }
  stop_server() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; fi; }
  peak_rss_mib() { awk '/^VmHWM:/ { printf "%d", $2 / 1024 }' "/proc/$pid/status"; }
  verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "PASS" : "MISS" }'; }

  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  # The reference: samtools faidx and md5sum of the FASTA vs its import,
  # taking turns for REF_ROUNDS rounds (each import into a reference store
  # of its own), medians compared: a run takes a fraction of a second, so
  # one round would be at the mercy of the machine's noise. The import is
  # polled every 10 ms, the resolution the timing needs.
  local rounds=${REF_ROUNDS:-5} t0 t1 t2 t3 r
  local -a tools_s ours_s
  SEQSTORE_SERVE_ARGS="${SEQSTORE_SERVE_ARGS:-} -reference-stores-per-account $((rounds + 1))" start_server
  for r in $(seq "$rounds"); do
    cat "$ref" >/dev/null
    t0=$(now_ns)
    samtools faidx "$ref" --fai-idx "$work/ref.fai"
    md5sum "$ref" >/dev/null
    t1=$(now_ns)
    tools_s+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')")
    "${helper[@]}" --endpoint "$endpoint" reference-import --poll 0.01 --store-name "bench-references-$r" --source "file://$root/ref.fa" >"$work/ref.json"
    ours_s+=("$(jq '.seconds * 1000 | round / 1000' "$work/ref.json")")
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  local ref_tools ref_ours arn ref_rss
  ref_tools=$(median "${tools_s[@]}")
  ref_ours=$(median "${ours_s[@]}")
  echo "reference rounds (s): tools ${tools_s[*]}; seqstore ${ours_s[*]}" >&2
  arn=$(jq -r .referenceArn "$work/ref.json")
  ref_rss=$(peak_rss_mib)
  local store; store=$("${helper[@]}" --endpoint "$endpoint" create-store cram-bench | jq -r .id)
  stop_server
  local ref_ratio; ref_ratio=$(awk -v a="$ref_tools" -v b="$ref_ours" 'BEGIN { printf "%.2f", a / b }')
  printf '%-12s %9s %12s %12s %8s %14s %s\n' what "MiB" "seqstore s" "tools s" ratio "server RSS" check
  printf '%-12s %9s %12s %12s %7sx %10s MiB %s (target >= 1: %s)\n' reference $(( $(stat -c %s "$ref") / 1048576 )) "$ref_ours" "$ref_tools" "$ref_ratio" "$ref_rss" ok "$(verdict "$ref_ratio" 1)"

  local p name opts cram size want primary ours rss etag reads ratio target check tools
  for p in "${profiles[@]}"; do
    name=${p%%:*}; opts=${p#*:}
    cram=$(make_cram "$name" "$opts")
    size=$(( $(stat -c %s "$cram") / 1048576 ))
    # The tools, one after the other, from the page cache.
    cat "$cram" "$ref" >/dev/null
    t0=$(now_ns)
    want=$(samtools view -@2 -T "$ref" "$cram" | md5sum | cut -d' ' -f1)
    t1=$(now_ns)
    samtools index "$cram" "$work/tools.crai"
    t2=$(now_ns)
    samtools flagstat -@2 "$cram" >"$work/flagstat.txt"
    t3=$(now_ns)
    tools=$(secs "$t0" "$t3")
    primary=$(awk '/ primary$/ { print $1; exit }' "$work/flagstat.txt")
    # seqstore, restarted so that its peak RSS is this profile's.
    start_server
    cat "$cram" >/dev/null
    "${helper[@]}" --endpoint "$endpoint" ingest --store "$store" --type CRAM --source1 "$cram" --reference-arn "$arn" --name "$name" >"$work/$name.json"
    rss=$(peak_rss_mib)
    stop_server
    ours=$(jq '.seconds * 100 | round / 100' "$work/$name.json")
    etag=$(jq -r .metadata.etag.source1 "$work/$name.json")
    reads=$(jq -r .metadata.sequenceInformation.totalReadCount "$work/$name.json")
    check=ok
    [ "$etag" = "$want" ] || check="ETag $etag, samtools $want"
    [ "$reads" = "$primary" ] || check="$check; reads $reads, flagstat's primary $primary"
    ratio=$(awk -v a="$tools" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')
    target=1.2; [ "$name" = 3.1-archive ] && target=0.9
    printf '%-12s %9s %12s %12s %7sx %10s MiB %s (target >= %s: %s; RSS < 300: %s)\n' "$name" "$size" "$ours" "$tools" "$ratio" "$rss" "$check" "$target" \
      "$(verdict "$ratio" "$target")" "$(verdict 299 "$rss")"
    echo "   tools: view|md5sum $(secs "$t0" "$t1") s, index $(secs "$t1" "$t2") s, flagstat $(secs "$t2" "$t3") s;" \
      "seqstore: upload $(jq '.upload_seconds * 100 | round / 100' "$work/$name.json") s, Complete to ACTIVE $(jq '(.complete_seconds + .activate_seconds) * 100 | round / 100' "$work/$name.json") s" >&2
  done
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "ratio = tools time / seqstore time (upload until ACTIVE; the import until COMPLETED): above 1 means seqstore is faster."
}
if [ "$server" = 1 ]; then
  server_run
  exit
fi
printf '%-12s %9s %12s %12s %8s %14s %s\n' profile "CRAM MiB" "seqstore s" "samtools s" ratio "seqstore RSS" check
for p in "${profiles[@]}"; do
  name=${p%%:*}; opts=${p#*:}
  cram=$(make_cram "$name" "$opts")
  size=$(( $(stat -c %s "$cram") / 1048576 ))
  # Warm the page cache for both readers.
  cat "$cram" "$ref" > /dev/null
  read -r ours rss < <(timeit "$bin" inspect -families MD5up -reference "$ref" "$cram")
  read -r theirs _ < <(timeit bash -c "samtools view -@2 -T '$ref' '$cram' | md5sum")
  want=$(samtools view -@2 -T "$ref" "$cram" | md5sum | cut -d' ' -f1)
  got=$("$bin" inspect -families MD5up -reference "$ref" "$cram" | sed -n 's/.*"MD5up":"\([0-9a-f]*\)".*/\1/p')
  check=ok; [ "$got" = "$want" ] || check="ETag MISMATCH"
  ratio=$(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.2fx", a / b }')
  printf '%-12s %9s %12s %12s %8s %11s MiB %s\n' "$name" "$size" "$ours" "$theirs" "$ratio" $(( rss / 1024 )) "$check"
done
echo "ratio = samtools time / seqstore time: above 1 means seqstore is faster. Targets: >= 1 on 3.0 and 3.1 normal, >= 0.7 on archive; RSS < 300 MiB."

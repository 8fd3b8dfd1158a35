#!/usr/bin/env bash
# CRAM decoding benchmark: seqstore's decoder (decode, render SAM, MD5,
# count, index, as `seqstore inspect` does it) against
# `samtools view -@2 -T ref | md5sum` on the same files, per CRAM profile.
# It reuses the coordinate-sorted BAM and reference that bench/ingest.sh makes
# (run that first, or its --data-only mode), writes each profile's CRAM next
# to them, and prints times, ratios and peak memory. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-bench/out/data-full-cov8}
ref=$data/ref.fa
bam=$data/reads.bam
[ -f "$bam" ] && [ -f "$ref" ] || { echo "no $bam or $ref: run bench/ingest.sh --data-only first" >&2; exit 1; }
# Each profile's CRAM must be at least 150 MB, so that the run measures
# steady decoding rather than start-up. The ingest data set's BAM alone makes
# smaller CRAMs, and archive compresses hardest: a profile's CRAM is made from
# the BAM merged with itself 2, 3, ... times until it is big enough.
min_mib=143 # 150 MB
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
printf '%-12s %9s %12s %12s %8s %14s %s\n' profile "CRAM MiB" "seqstore s" "samtools s" ratio "seqstore RSS" check
for p in "3.0:version=3.0" "3.1-normal:version=3.1,normal" "3.1-archive:version=3.1,archive"; do
  name=${p%%:*}; opts=${p#*:}
  cram=$data/reads.$name.cram
  n=2
  while :; do
    [ -f "$cram" ] || samtools view -@2 -T "$ref" -O "cram,$opts" -o "$cram" "$(copies $n)" 2>/dev/null
    size=$(( $(stat -c %s "$cram") / 1048576 ))
    [ "$size" -ge "$min_mib" ] && break
    [ "$n" -lt 8 ] || { echo "$name: CRAM of $size MiB from $n copies is still under 150 MB" >&2; exit 1; }
    echo "$name: CRAM of $size MiB is under 150 MB; remaking it from $((n + 1)) copies of the BAM" >&2
    rm -f "$cram"; n=$((n + 1))
  done
  echo "$name: CRAM is $(stat -c %s "$cram") bytes, at least 150 MB" >&2
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

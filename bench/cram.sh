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
# The ingest data set's BAM makes CRAMs of 120 to 140 MB; merged with itself
# it gives each profile well over 150 MB.
double=$data/reads.x2.bam
[ -f "$double" ] || samtools merge -@2 -f -o "$double" "$bam" "$bam"
bam=$double
bin=$(mktemp -d)/seqstore
go build -o "$bin" ./cmd/seqstore
timeit() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; }
printf '%-12s %9s %12s %12s %8s %14s %s\n' profile "CRAM MiB" "seqstore s" "samtools s" ratio "seqstore RSS" check
for p in "3.0:version=3.0" "3.1-normal:version=3.1,normal" "3.1-archive:version=3.1,archive"; do
  name=${p%%:*}; opts=${p#*:}
  cram=$data/reads.$name.cram
  [ -f "$cram" ] || samtools view -@2 -T "$ref" -O "cram,$opts" -o "$cram" "$bam" 2>/dev/null
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

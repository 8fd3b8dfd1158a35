# bench/lib/procmem.sh: sourced by the bench scripts that measure a seqstore
# server's memory, which is the server's and its work process's. It defines:
#   peak_rss_tree PID  the high-water RSS (VmHWM) of PID and its children,
#                      summed: the sum of peaks bounds the pair's true peak
#                      from above, and counts the pages they share (the
#                      binary's) twice
#   start_pss_sampler PID FILE
#                      in the background, samples the proportional set size
#                      (PSS) of PID and its children every 100 ms while PID
#                      runs, and keeps the largest sum in FILE: the pair's
#                      peak footprint, shared pages counted once

peak_rss_tree() {
	local pid
	for pid in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do cat "/proc/$pid/status"; done |
		awk '/^VmHWM:/ { n += $2 * 1024 } END { print n }'
}

start_pss_sampler() {
	python3 - "$1" "$2" <<'PY' &
import glob, os, sys, time
pid, out = sys.argv[1], sys.argv[2]
peak = 0
while os.path.exists(f"/proc/{pid}"):
    pids = [pid]
    for f in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            pids += open(f).read().split()
        except OSError:
            pass
    total = 0
    for p in pids:
        try:
            for line in open(f"/proc/{p}/smaps_rollup"):
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    if total > peak:
        peak = total
        with open(out, "w") as f:
            f.write(f"{peak}\n")
    time.sleep(0.1)
PY
}

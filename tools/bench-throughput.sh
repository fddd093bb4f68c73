#!/bin/sh
# Whole-run throughput, REPS runs per line, the median run kept (by the replay loop's wall
# time, "wall_s" in the JSON: boot and output excluded):
#   replay/mix/i386-1G/cpu0   the default mix (gen mix --seed=1) on the default machine,
#                             pinned to CPU 0 (taskset -c 0; the inflate thread shares it):
#                             the official one-core figure (issue 8: >= 10 M events/s)
#   replay/mix/i386-1G        the same unpinned (the inflate thread on the other core)
#   replay/W/CFG              mix, leak, db on i386 mem=1G and x86_64 mem=5G, unpinned
# Written as Google Benchmark JSON (real_time = cpu_time = ns per event, items_per_second =
# events/s, pgfault_per_s = simulated page faults per second) so that compare.py can compare
# two such files; a summary on stdout. Usage:
#   tools/bench-throughput.sh [bin/mmreplay] [OUT.json]        (REPS=5 by default)
set -eu
M=${1:-bin/mmreplay}
OUT=${2:-results/bench/throughput.json}
REPS=${REPS:-5}
T=results/bench/traces
mkdir -p "$T" "$(dirname "$OUT")"
# made again by a binary newer than them: gen's output (its default level) may have changed
for w in mix leak db; do
	if [ ! -f "$T/$w.mmt" ] || [ "$M" -nt "$T/$w.mmt" ]; then
		"$M" gen "$w" --seed=1 -o "$T/$w.mmt" 2>/dev/null
	fi
done
PIN=
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
	PIN="taskset -c 0"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
summary="$tmp/summary"
: >"$summary"

# one NAME WORKLOAD ARCH MEM PIN: REPS runs, one JSON entry for the median one
one() {
	name=$1 w=$2 arch=$3 mem=$4 pin=$5
	for r in $(seq "$REPS"); do
		$pin "$M" replay "$T/$w.mmt" --arch="$arch" --mem="$mem" --quiet --json "$tmp/$r.json"
		sed -n 's/.*"wall_s": \([0-9.]*\).*/\1/p' "$tmp/$r.json"
	done >"$tmp/walls"
	wall=$(sort -n "$tmp/walls" | awk -v n="$REPS" 'NR == int((n + 1) / 2)')
	runs=$(sort -n "$tmp/walls" | tr '\n' ' ' | sed 's/ $//')
	ev=$(sed -n 's/.*"events": \([0-9]*\).*/\1/p' "$tmp/1.json" | head -1)
	pf=$(sed -n 's/.*"pgfault": \([0-9]*\).*/\1/p' "$tmp/1.json" | head -1)
	[ -s "$tmp/entries" ] && printf ',\n' >>"$tmp/entries"
	awk -v name="$name" -v ev="$ev" -v wall="$wall" -v pf="${pf:-0}" -v n="$REPS" 'BEGIN {
		ns = wall * 1e9 / ev
		printf "    {\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", ", name, name
		printf "\"repetitions\": %d, \"repetition_index\": 0, \"threads\": 1, \"iterations\": %d, ", n, ev
		printf "\"real_time\": %.3f, \"cpu_time\": %.3f, \"time_unit\": \"ns\", ", ns, ns
		printf "\"items_per_second\": %.0f, \"pgfault_per_s\": %.0f}", ev / wall, pf / wall
	}' >>"$tmp/entries"
	awk -v name="$name" -v ev="$ev" -v wall="$wall" -v pf="${pf:-0}" -v n="$REPS" -v runs="$runs" 'BEGIN {
		printf "  %-26s %6.2f M events/s %8.1f ns/event %7.2f M faults/s  (median of %d: %s s)\n",
		       name, ev / wall / 1e6, wall * 1e9 / ev, pf / wall / 1e6, n, runs
	}' >>"$summary"
}

: >"$tmp/entries"
if [ -n "$PIN" ]; then
	one replay/mix/i386-1G/cpu0 mix i386 1G "$PIN"
else
	echo "  (taskset unavailable: no pinned figure)" >>"$summary"
fi
for w in mix leak db; do
	for cfg in "i386 1G" "x86_64 5G"; do
		set -- $cfg
		one "replay/$w/$1-$2" "$w" "$1" "$2" ""
	done
done
{
	printf '{\n  "context": {"date": "%s", "host_name": "%s", "executable": "%s",\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" "$M"
	printf '    "num_cpus": %s, "mhz_per_cpu": 0, "cpu_scaling_enabled": false,\n' "$(nproc)"
	printf '    "load_avg_at_end": "%s",\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)"
	printf '    "caches": [], "load_avg": [], "library_build_type": "release"},\n  "benchmarks": [\n'
	cat "$tmp/entries"
	printf '\n  ]\n}\n'
} >"$tmp/out.json"
mv "$tmp/out.json" "$OUT"
cat "$summary"
echo "throughput: $OUT (load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo ?): other work on the machine slows every figure)"

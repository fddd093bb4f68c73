#!/bin/sh
# Whole-run throughput: replay events/s of the default sweep's workloads (mix, leak, db at
# their default-sweep seeds and scales) on i386 mem=1G and x86_64 mem=5G, REPS runs each,
# the median run kept. Written as Google Benchmark JSON so that compare.py can compare two
# such files. Usage: tools/bench-throughput.sh [bin/mmreplay] [OUT.json]
set -eu
M=${1:-bin/mmreplay}
OUT=${2:-results/bench/throughput.json}
REPS=${REPS:-3}
T=results/bench/traces
mkdir -p "$T" "$(dirname "$OUT")"
[ -f "$T/mix.mmt" ] || "$M" gen mix --seed=1 -o "$T/mix.mmt" 2>/dev/null
[ -f "$T/leak.mmt" ] || "$M" gen leak --seed=1 -o "$T/leak.mmt" 2>/dev/null
[ -f "$T/db.mmt" ] || "$M" gen db --seed=1 -o "$T/db.mmt" 2>/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
first=1
{
	printf '{\n  "context": {"date": "%s", "host_name": "%s", "executable": "%s",\n' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" "$M"
	printf '    "num_cpus": %s, "mhz_per_cpu": 0, "cpu_scaling_enabled": false,\n' "$(nproc)"
	printf '    "caches": [], "load_avg": [], "library_build_type": "release"},\n  "benchmarks": [\n'
	for w in mix leak db; do
		for cfg in "i386 1G" "x86_64 5G"; do
			set -- $cfg
			for r in $(seq "$REPS"); do
				"$M" replay "$T/$w.mmt" --arch="$1" --mem="$2" --quiet --json "$tmp/$r.json"
				sed -n 's/.*"wall_s": \([0-9.]*\).*/\1/p' "$tmp/$r.json"
			done | sort -n | awk -v n="$REPS" 'NR == int((n + 1) / 2)' >"$tmp/wall"
			ev=$(sed -n 's/.*"events": \([0-9]*\).*/\1/p' "$tmp/1.json" | head -1)
			wall=$(cat "$tmp/wall")
			[ "$first" = 1 ] || printf ',\n'
			first=0
			# real_time/cpu_time: ns per replayed event (compare.py compares these)
			awk -v name="replay/$w/$1-$2" -v ev="$ev" -v wall="$wall" 'BEGIN {
				ns = wall * 1e9 / ev
				printf "    {\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", ", name, name
				printf "\"repetitions\": 1, \"repetition_index\": 0, \"threads\": 1, \"iterations\": %d, ", ev
				printf "\"real_time\": %.3f, \"cpu_time\": %.3f, \"time_unit\": \"ns\", ", ns, ns
				printf "\"items_per_second\": %.0f}", ev / wall
			}'
		done
	done
	printf '\n  ]\n}\n'
} >"$tmp/out.json"
mv "$tmp/out.json" "$OUT"
awk -F'"' '/"name"/ { n = $4 } /items_per_second/ { sub(/.*items_per_second": /, ""); sub(/}.*/, ""); printf "  %-24s %12.0f events/s\n", n, $0 }' "$OUT"
echo "throughput: $OUT"

#!/bin/sh
# Regression checks against results/baseline/ (docs/BENCHMARKING.md "Regression").
#   tools/regress.sh check     (a) simulated metrics of bench/sweeps/regress, exactly;
#                              (b) instructions of a fixed replay (callgrind), within TOL %
#   tools/regress.sh report    (c) wall-time comparison (Google Benchmark compare.py),
#                              report only
#   tools/regress.sh baseline  rewrite the baseline files (deliberate: commit them)
# MMREPLAY names the binary (default bin/mmreplay).
set -eu
M=${MMREPLAY:-bin/mmreplay}
BASE=results/baseline
OUT=results/regress
TOL=${REGRESS_TOL:-3}
# (b)'s fixed replay: the regress sweep's mix trace on i386 mem=256M, no time series
TRACE=$OUT/traces/mix.mmt
FIXED="--arch=i386 --mem=256M --quiet --no-timing"

run_sweep() {
	"$M" sweep bench/sweeps/regress -o "$OUT" --no-timing --fresh -j2
}

# Ir of the fixed replay, from callgrind's "Collected" line (deterministic for a given
# binary: the count does not depend on the machine's speed or load).
instructions() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$M" replay "$TRACE" $FIXED 2>&1 |
		sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p'
}

# Names the first differing cells and columns of two results.csv tables.
diff_tables() {
	awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
		NR == FNR { base[$1] = $0; next }
		{
			if (!($1 in base)) { print "  new cell " $1; bad++; next }
			split(base[$1], b, ",")
			for (i = 1; i <= NF; i++)
				if ($i != b[i] && shown < 20) {
					print "  " $1 " " h[i] ": baseline " b[i] ", now " $i; shown++
				}
			delete base[$1]
		}
		END { for (k in base) print "  missing cell " k }' "$1" "$2"
}

check() {
	run_sweep
	status=0
	if cmp -s "$BASE/regress/results.csv" "$OUT/results.csv"; then
		echo "regress (a): $(($(wc -l <"$OUT/results.csv") - 1)) cells identical to $BASE/regress/results.csv"
	else
		echo "regress (a): FAIL: simulated metrics differ from $BASE/regress/results.csv:"
		diff_tables "$BASE/regress/results.csv" "$OUT/results.csv"
		echo "  (intended? make baseline, and commit results/baseline/ with the reason)"
		status=1
	fi
	now=$(instructions)
	base=$(cat "$BASE/instructions.txt")
	if [ -z "$now" ]; then
		echo "regress (b): FAIL: no instruction count from valgrind"
		return 1
	fi
	pct=$(awk -v a="$base" -v b="$now" 'BEGIN { printf "%+.2f", (b - a) * 100 / a }')
	if awk -v a="$base" -v b="$now" -v t="$TOL" 'BEGIN { d = (b - a) * 100 / a; exit !(d <= t && d >= -t) }'; then
		echo "regress (b): $now instructions, baseline $base ($pct %, tolerance ±$TOL %)"
	else
		echo "regress (b): FAIL: $now instructions, baseline $base ($pct %, tolerance ±$TOL %)"
		status=1
	fi
	return $status
}

report() {
	mkdir -p results/bench
	tools/bench-throughput.sh "$M" results/bench/throughput.json
	cmp=$(dpkg -L libbenchmark-tools 2>/dev/null | grep '/compare.py$' | head -1)
	if [ -z "$cmp" ] || [ ! -f "$BASE/throughput.json" ]; then
		echo "regress (c): no compare.py or no $BASE/throughput.json; skipped"
		return 0
	fi
	echo "regress (c): wall time against $BASE/throughput.json (report only; other machines differ)"
	# the Debian python (python3-scipy is for it), not whatever python3 is first on PATH
	py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	if ! "$py" -c 'import scipy' 2>/dev/null; then
		echo "regress (c): compare.py needs python3-scipy (make deps); skipped"
		return 0
	fi
	"$py" "$cmp" -d results/bench/throughput-compare.json benchmarks \
		"$BASE/throughput.json" results/bench/throughput.json || true
}

baseline() {
	run_sweep
	mkdir -p "$BASE/regress" "$BASE/default"
	cp "$OUT/results.csv" "$BASE/regress/results.csv"
	instructions >"$BASE/instructions.txt"
	echo "baseline: $BASE/regress/results.csv, $BASE/instructions.txt ($(cat "$BASE/instructions.txt"))"
	"$M" sweep bench/sweeps/default -o results/baseline-default-run --no-timing --fresh
	cp results/baseline-default-run/results.csv "$BASE/default/results.csv"
	tools/bench-throughput.sh "$M" "$BASE/throughput.json"
	echo "baseline: $BASE/default/results.csv, $BASE/throughput.json; review and commit $BASE/"
}

case "${1:-}" in
check) check ;;
report) report ;;
baseline) baseline ;;
*) echo "usage: tools/regress.sh check|report|baseline" >&2; exit 2 ;;
esac

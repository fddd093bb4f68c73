#!/bin/sh
# Import time of trace.dat files against `trace-cmd report > /dev/null` on the same file,
# side by side, best of N runs each (wall clock).
# Usage: bench/import_vs_report.sh [-n RUNS] [FILE.dat ...]   (default traces/real/*.dat)
# Columns: records; import to .mmt; import without writing (--counts: read + convert only);
# trace-cmd report; report time / import time; import throughput.
set -e
M=${MMREPLAY:-bin/mmreplay}
runs=5
if [ "$1" = "-n" ]; then runs=$2; shift 2; fi
[ $# -gt 0 ] || set -- traces/real/*.dat
command -v trace-cmd >/dev/null || { echo "trace-cmd not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

best() { # best wall time in seconds of "$@", $runs runs
	b=""
	i=0
	while [ $i -lt $runs ]; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		t=$((t1 - t0))
		if [ -z "$b" ] || [ $t -lt $b ]; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}

printf '%-22s %9s %10s %10s %10s %8s %12s\n' file records import_s parse_s report_s report/imp Mrec/s_import
for f in "$@"; do
	recs=$($M import "$f" --counts --quiet | awk '{s += $2} END {print s}')
	ti=$(best $M import "$f" -o "$tmp/out.mmt" --quiet)
	tp=$(best $M import "$f" --counts --quiet)
	tr=$(best trace-cmd report "$f")
	awk -v f="$(basename "$f")" -v r="$recs" -v ti="$ti" -v tp="$tp" -v tr="$tr" 'BEGIN {
		printf "%-22s %9d %10.3f %10.3f %10.3f %8.2fx %12.2f\n", f, r, ti / 1e9, tp / 1e9,
		       tr / 1e9, tr / ti, r / (ti / 1e9) / 1e6 }'
done

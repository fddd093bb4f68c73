#!/bin/sh
# Import + model-level replay of each trace.dat against `trace-cmd report > /dev/null` on
# the same file, side by side in one run, best of N runs each (wall clock). The issue's
# target: import + replay faster than trace-cmd report. Replay uses the recording machine's
# shape (x86_64, mem= and CPUs as given; defaults: the samples' 24G, 2 CPUs).
# Usage: bench/import_replay_vs_report.sh [-n RUNS] [-m MEM] [-c CPUS] [FILE.dat ...]
# Columns: records; import to .mmt; import without writing (--counts: read + convert only);
# replay of that .mmt; import + replay; trace-cmd report; report / import;
# report / (import + replay).
set -e
M=${MMREPLAY:-bin/mmreplay}
runs=5
mem=24G
cpus=2
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift 2 ;;
	-m) mem=$2; shift 2 ;;
	-c) cpus=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- traces/real/*.dat
command -v trace-cmd >/dev/null || { echo "trace-cmd not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

best() { # best wall time in ns of "$@", $runs runs
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

both() { # import then replay, as one timed unit
	$M import "$1" -o "$tmp/both.mmt" --quiet &&
		$M replay "$tmp/both.mmt" --arch=x86_64 --mem="$mem" --cpus="$cpus" --quiet
}

printf '%-16s %8s %9s %8s %9s %13s %9s %10s %10s\n' file records import_s parse_s replay_s \
	import+replay report_s report/imp report/i+r
for f in "$@"; do
	recs=$($M import "$f" --counts --quiet | awk '{s += $2} END {print s}')
	$M import "$f" -o "$tmp/out.mmt" --quiet
	ti=$(best $M import "$f" -o "$tmp/out.mmt" --quiet)
	tc=$(best $M import "$f" --counts --quiet)
	tr=$(best $M replay "$tmp/out.mmt" --arch=x86_64 --mem="$mem" --cpus="$cpus" --quiet)
	tb=$(best both "$f")
	tp=$(best trace-cmd report "$f")
	awk -v f="$(basename "$f")" -v r="$recs" -v ti="$ti" -v tc="$tc" -v tr="$tr" -v tb="$tb" \
	    -v tp="$tp" 'BEGIN {
		printf "%-16s %8d %9.3f %8.3f %9.3f %13.3f %9.3f %9.2fx %9.2fx\n", f, r, ti / 1e9,
		       tc / 1e9, tr / 1e9, tb / 1e9, tp / 1e9, tp / ti, tp / tb }'
done

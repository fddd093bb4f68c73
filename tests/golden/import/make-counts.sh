#!/bin/sh
# Writes NAME.counts (records per tracepoint, from trace-cmd report: the reference the
# importer's --counts is tested against) for every traces/real/NAME.dat. Run from the root.
set -e
for f in traces/real/*.dat; do
	n=$(basename "$f" .dat)
	trace-cmd report "$f" 2>/dev/null |
		sed -n 's/^.*\] *[0-9][0-9]*\.[0-9][0-9]*: \([a-z0-9_]*\): .*$/\1/p' |
		sort | uniq -c | awk '{print $2, $1}' >"tests/golden/import/$n.counts"
done

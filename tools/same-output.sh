#!/bin/sh
# Do two builds simulate the same? For performance work, where every simulated number must
# stay byte-identical: replays 8 generated workloads on 6 machine configurations (swap,
# overcommit modes, i386/PAE/x86_64, 1-4 CPUs), the full default mix, and the real samples
# at model and page level, with both binaries, and compares every JSON summary, CSV time
# series and frame map byte for byte (docs/BENCHMARKING.md "Same output").
#   tools/same-output.sh OLD_BIN NEW_BIN      e.g. a copy of bin/mmreplay from main
# Exit 0 when every file is identical, 1 otherwise (the differing files are listed).
set -eu
[ $# -eq 2 ] || { echo "usage: tools/same-output.sh OLD_BIN NEW_BIN" >&2; exit 2; }
OLD=$1 NEW=$2
for b in "$OLD" "$NEW"; do
	[ -x "$b" ] || { echo "same-output: $b: not an executable" >&2; exit 2; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
T=$W/traces
mkdir -p "$T"
for w in mix db leak forkcow shell slab vmalloc build; do
	"$OLD" gen $w --seed=3 --scale=0.3 -o "$T/$w.mmt" 2>/dev/null
done
"$OLD" gen mix --seed=1 -o "$T/mixfull.mmt" 2>/dev/null

run_all() {
	B=$1 O=$2
	mkdir -p "$O"
	i=0
	for cfg in "--arch=i386 --mem=1G" "--arch=i386 --mem=256M --swap=1G" \
		"--arch=i386 --mem=256M --set vm.overcommit_memory=1" \
		"--arch=i386-pae --mem=5G --cpus=2" "--arch=x86_64 --mem=1G --cpus=4 --swap=256M" \
		"--arch=i386 --mem=512M --set vm.overcommit_memory=2"; do
		i=$((i + 1))
		for w in mix db leak forkcow shell slab vmalloc build; do
			# shellcheck disable=SC2086 # cfg is a list of options
			"$B" replay "$T/$w.mmt" $cfg --quiet --no-timing --json "$O/$w.$i.json" \
				--sample-every 5000 --csv "$O/$w.$i.csv" --frame-map "$O/$w.$i.map" ||
				echo "exit $? $w $i" >>"$O/status"
		done
	done
	"$B" replay "$T/mixfull.mmt" --quiet --no-timing --json "$O/mixfull.json" \
		--sample-every 100000 --csv "$O/mixfull.csv" --frame-map "$O/mixfull.map"
	"$B" replay "$T/mixfull.mmt" --arch=x86_64 --mem=5G --quiet --no-timing \
		--json "$O/mixfull5g.json"
	for r in traces/real/*.mmt; do
		n=$(basename "$r" .mmt)
		"$B" replay "$r" --quiet --no-timing --json "$O/real.$n.json" --frame-map "$O/real.$n.map"
		"$B" replay "$r" --level=page --quiet --no-timing --json "$O/realpage.$n.json"
	done
}
run_all "$OLD" "$W/old"
run_all "$NEW" "$W/new"
if diff -r "$W/old" "$W/new" >/dev/null; then
	echo "same-output: $(ls "$W/new" | wc -l) files identical"
else
	echo "same-output: FAIL: these outputs differ:"
	diff -rq "$W/old" "$W/new" | head -20
	exit 1
fi

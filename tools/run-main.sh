#!/bin/sh
# make run: the benchmark as a user runs it. Boot reports of the seed's four i386
# configurations, the default sweep (bench/sweeps/default), the plots, and summary tables
# read back from results/default/results.csv. Usage: tools/run-main.sh [bin/mmreplay]
set -eu
M=${1:-bin/mmreplay}
OUT=results/default
PLOTS=plots/out
t0=$(date +%s)

echo "== boot: i386 at the seed's four mem= sizes (mmreplay boot --section=boot,free)"
for mem in 1G 512M 256M 5G; do
	echo "---- mmreplay boot --arch=i386 --mem=$mem"
	"$M" boot --arch=i386 --mem="$mem" --section=boot,free
done

echo
echo "== sweep: bench/sweeps/default -> $OUT ($("$M" sweep bench/sweeps/default --list | wc -l) cells)"
"$M" sweep bench/sweeps/default -o "$OUT"

echo
echo "== plots -> $PLOTS"
if [ -f results/baseline/default/results.csv ]; then
	"$M" plot "$OUT" --out "$PLOTS" --compare results/baseline/default
else
	"$M" plot "$OUT" --out "$PLOTS"
fi

echo
echo "== summary per configuration (sums over the workloads mix, leak, db; fragmentation ="
echo "   mean unusable free space index at order 9 at the end of the replay)"
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
{
	k = sprintf("%-7s %-5s %-5s %s", $c["arch"], $c["mem"], $c["swap"], $c["overcommit_memory"])
	if (!(k in n)) order[++nk] = k
	n[k]++; frag[k] += $c["unusable_o9"]; tlb[k] += $c["tlb_flushes"]
	swin[k] += $c["swap_in_pages"]; swout[k] += $c["swap_out_pages"]
	oom[k] += $c["oom_kills"]; enomem[k] += $c["enomem"]
}
END {
	printf "%-21s %3s %9s %12s %10s %10s %5s %7s\n", "arch    mem   swap", "oc", \
	       "unusable9", "tlb_flushes", "swap_in", "swap_out", "oom", "enomem"
	for (i = 1; i <= nk; i++) {
		k = order[i]
		printf "%-21s %3s %9.3f %12d %10d %10d %5d %7d\n", substr(k, 1, 19), substr(k, 21), \
		       frag[k] / n[k], tlb[k], swin[k], swout[k], oom[k], enomem[k]
	}
}' "$OUT/results.csv"

echo
echo "== overcommit and swap on i386 mem=256M (issue 6): leak and db"
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
$c["arch"] == "i386" && $c["mem"] == "256M" && ($c["trace"] == "leak" || $c["trace"] == "db") {
	if (!hdr++)
		printf "%-5s %-3s %-5s %6s %7s %10s %10s %12s\n", "trace", "oc", "swap", "oom", \
		       "enomem", "swap_out", "swap_in", "dropped_ev"
	printf "%-5s %-3s %-5s %6d %7d %10d %10d %12d\n", $c["trace"], $c["overcommit_memory"], \
	       $c["swap"], $c["oom_kills"], $c["enomem"], $c["swap_out_pages"], \
	       $c["swap_in_pages"], $c["mmreplay_dropped_killed"]
}' "$OUT/results.csv"
echo "(oom = OOM kills, enomem = mmap/brk/fork refused by the overcommit policy, dropped_ev ="
echo " trace events of tasks already killed; JSON with the OOM victims: $OUT/results.json)"

echo
echo "results: $OUT/results.csv  $OUT/results.json  (per cell: $OUT/cells/)"
echo "plots:   $(ls "$PLOTS"/*.png | tr '\n' ' ')"
echo "make run: $(( $(date +%s) - t0 )) s"

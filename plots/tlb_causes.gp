# (2) TLB flushes by cause (engine/tlb.h enum tlb_cause) per machine configuration of one
# workload, overcommit 0. Top: totals on a log scale (they span decades); bottom: each
# cause's share of the flushes, stacked to 100 %.
# Variables: datafile (config then one column per cause), ncauses, trace, fmt, out.
h = 900
load gpdir.'/common.gp'
set multiplot layout 2,1 title sprintf("TLB flushes by cause: %s workload, overcommit 0", trace) noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#333333'
set boxwidth 0.75
set xtics rotate by -30 noenhanced
set key outside right top title 'cause' noenhanced
set logscale y
set ylabel 'flushes (log scale)'
set yrange [1:*]
set tmargin 3
plot datafile skip 1 using (sum [c=2:ncauses+1] column(c)):xtic(1) title 'all causes' lc rgb '#4e79a7'
unset logscale y
set style histogram rowstacked
set yrange [0:100]
set ylabel 'share of flushes (%)'
plot for [c=2:ncauses+1] datafile using ((tot = sum [k=2:ncauses+1] column(k)) > 0 ? 100.0*column(c)/tot : 0):xtic(1) title columnheader(c)
unset multiplot

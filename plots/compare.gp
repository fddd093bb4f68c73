# (7) Two sweeps compared cell by cell: for each cell in both, the ratio b/a of key metrics
# (1 = unchanged; a metric that is 0 in exactly one sweep has no ratio and is not drawn).
# Variables: datafile (cell index, label, one ratio column per metric), nmetrics, a, b.
load gpdir.'/common.gp'
set title sprintf("Sweep %s compared with %s: ratio per cell", b, a) noenhanced
set xlabel 'cell (index in label order)'
set ylabel 'ratio b / a (log scale)'
set logscale y
set key outside right top title 'metric' noenhanced
set xrange [-1:*]
plot for [m=3:nmetrics+2] datafile using 1:m with points pt 7 ps 0.8 title columnheader(m)

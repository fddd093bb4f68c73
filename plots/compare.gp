# (7) Two sweeps compared cell by cell: for each cell in both, the ratio b/a of key metrics
# (1 = unchanged, drawn side by side per cell; a metric that is 0 in exactly one sweep has no ratio and is not drawn).
# Variables: datafile (cell index, label, one ratio column per metric), nmetrics, a, b.
load gpdir.'/common.gp'
set title sprintf("Sweep %s compared with %s: ratio per cell", b, a) noenhanced
set xlabel 'cell (index in label order)'
set ylabel 'ratio b / a (log scale)'
set logscale y
set yrange [ymin:ymax]
set ytics add ('0.5' 0.5, '0.75' 0.75, '1' 1, '1.5' 1.5, '2' 2)
set format y '%g'
set key outside right top title 'metric' noenhanced
set xrange [-1:*]
# metrics side by side within a cell (a small x offset each) so equal ratios stay visible
set xtics out
plot for [m=3:nmetrics+2] datafile using ($1 + (m - 2.5 - nmetrics / 2.0) * 0.09):m \
     with points pt (m - 2) ps 0.9 title columnheader(m)

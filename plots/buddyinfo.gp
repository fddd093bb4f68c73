# (5) /proc/buddyinfo over time as a heatmap: for each zone, free blocks per order (y) over
# trace time (x); colour = free blocks on a log scale. Each sample is a box from the previous
# sample's time to its own, so uneven sampling is drawn as it is.
# Variables: files, zones (space-separated), cell, fmt, out.
h = 350 * words(files) + 100
load gpdir.'/common.gp'
set autoscale xfix
set multiplot layout words(files),1 title sprintf('Free blocks per order over time (buddyinfo), cell %s', cell) noenhanced
set palette defined (0 '#ffffff', 1 '#fde725', 2 '#5ec962', 3 '#21918c', 4 '#3b528b', 5 '#440154')
set logscale cb
set cbrange [1:*]
set cblabel 'free blocks (log; white = none)'
unset grid
set yrange [-0.5:10.5]
set ytics 0,1,10
set ylabel 'order (block = 2^{order} pages)' enhanced
set xlabel 'trace time (s)'
set style fill solid 1.0 noborder
do for [i=1:words(files)] {
    set title sprintf('zone %s', word(zones, i))
    plot word(files, i) using (($1+$2)/2):3:(($2-$1)/2):(0.5):($4 > 0 ? $4 : NaN) \
         with boxxyerror fc palette notitle
}
unset multiplot

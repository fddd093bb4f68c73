# (1) Fragmentation over trace time: the node's unusable free space index at one order
# (mm/vmstat.c unusable_free_index; 0 = every free page is in a block of that order or
# larger, 1 = none is), one line per machine configuration (overcommit 0, no swap).
# Variables: files, titles (space-separated, '~' for spaces), order, trace, fmt, out.
load gpdir.'/common.gp'
set autoscale xfix
set title sprintf("Fragmentation over time: %s workload, unusable free space index at order %d (overcommit 0, no swap)", trace, order) noenhanced
set xlabel 'trace time (s)'
set ylabel sprintf('unusable free space index, order %d (0..1)', order)
set yrange [0:1.05]
set key outside right top title 'machine' noenhanced
plot for [i=1:words(files)] word(files, i) using 1:2 with lines lw 2 \
     title system(sprintf("echo '%s' | tr '~' ' '", word(titles, i)))

# Shared by every plots/*.gp: the terminal from fmt ('png' or 'svg'), size w x h pixels
# (set w, h before loading), and a readable default style.
if (!exists("w")) w = 1100
if (!exists("h")) h = 650
if (fmt eq 'svg') {
    set terminal svg size w,h dynamic enhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
    set terminal pngcairo size w,h enhanced font 'DejaVu Sans,11' background rgb 'white'
}
set output out
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key noenhanced
set datafile missing 'NaN'
# ten distinguishable colours (Tableau 10) for series and stacked causes
array tab10[10] = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', \
    '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac']
do for [i=1:10] { set linetype i lc rgb tab10[i] lw 2 pt 7 }
set linetype cycle 10

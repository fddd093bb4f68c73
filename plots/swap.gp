# (3) Swap traffic per machine configuration and overcommit mode, summed over the sweep's
# workloads, cells with swap only. Log scale: traffic spans decades; a missing bar is 0.
# Variables: datafile (config, out for oc 0/1/2, in for oc 0/1/2), fmt, out.
h = 900
load gpdir.'/common.gp'
set tmargin 4
set multiplot layout 2,1 title 'Swap traffic per mem= and overcommit mode (sum over the workloads, cells with swap; no bar = 0)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#333333'
set xtics noenhanced
set logscale y
set yrange [1:*]
set key outside right top title 'vm.overcommit\_memory'
set ylabel 'pages swapped out (pswpout, log)'
plot for [m=0:2] datafile using (column(2+m) > 0 ? column(2+m) : NaN):xtic(1) title sprintf('%d', m)
set ylabel 'pages swapped in (pswpin, log)'
plot for [m=0:2] datafile using (column(5+m) > 0 ? column(5+m) : NaN):xtic(1) title sprintf('%d', m)
unset multiplot

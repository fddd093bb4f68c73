# (4) OOM kills and overcommit refusals (ENOMEM from __vm_enough_memory) per machine
# configuration and overcommit mode, summed over the sweep's workloads.
# Variables: datafile (config, kills for oc 0/1/2, ENOMEM for oc 0/1/2), fmt, out.
h = 900
load gpdir.'/common.gp'
set tmargin 4
set multiplot layout 2,1 title 'OOM kills and ENOMEM refusals per overcommit mode (all workloads)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border rgb '#333333'
set xtics rotate by -25 noenhanced
set yrange [0:*]
set key outside right top title 'vm.overcommit\_memory'
set ylabel 'OOM kills'
plot for [m=0:2] datafile using 2+m:xtic(1) title sprintf('%d', m)
set ylabel 'ENOMEM refusals'
plot for [m=0:2] datafile using 5+m:xtic(1) title sprintf('%d', m)
unset multiplot

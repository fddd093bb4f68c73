# (6) Physical memory of one cell at the end of the replay. Left: every frame by state (from
# struct page flags: free = PG_buddy, pcp = on a per-CPU list, anon, file, slab, page table,
# vmalloc, kernel, reserved; 'other' = allocated without a type flag, e.g. compound tails or
# boot allocations); each pixel is the majority state of its frames. Right: pageblocks by
# migratetype. Address 0 is at the top; dashed lines mark where each zone starts.
# Variables: framefile, blockfile, zonefile, cell, mibrow, width, fmt, out.
w = 1400
h = 900
load gpdir.'/common.gp'
unset grid
# state index (column 3 of framefile) -> colour; the order is tools/cmd_plot.c fm_states
array scol[11] = [0xffffff, 0x000000, 0xb8e186, 0x4dac26, 0xd7191c, 0x2b83ba, 0xfdae61, \
    0x7b3294, 0xe66101, 0x636363, 0xbababa]
array sname[11] = ['hole', 'reserved', 'free', 'pcp (free, per-CPU)', 'anon', 'file', 'slab', \
    'page table', 'vmalloc', 'kernel', 'other allocated']
array mcol[4] = [0xe66101, 0x5e3c99, 0xfdb863, 0x1b9e77]
array mname[4] = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic']
R(c) = (c >> 16) & 255
G(c) = (c >> 8) & 255
B(c) = c & 255
set multiplot layout 1,2 title sprintf('Physical memory at the end of cell %s', cell) noenhanced
set yrange [*:*] reverse
set autoscale yfix
set xrange [-0.5:width-0.5]
set ylabel 'physical address (MiB)'
set xlabel sprintf('offset within row (%.2f MiB per row)', mibrow)
set xtics ('0' 0, sprintf('%.2f', mibrow/2) width/2, sprintf('%.2f', mibrow) width-1)
set style textbox opaque noborder
set key at screen 0.36, screen 0.9 left top title 'frame state' Left reverse
set style fill solid 1.0 border rgb '#555555'
set lmargin at screen 0.06
set rmargin at screen 0.35
set title 'frames by state'
load zonefile
plot framefile using 1:2:(R(scol[$3+1])):(G(scol[$3+1])):(B(scol[$3+1])) with rgbimage notitle, \
     for [i=1:11] NaN with boxes fc rgb sprintf('#%06x', scol[i]) title sname[i]
unset arrow
unset label
set title 'pageblocks by migratetype'
set lmargin at screen 0.58
set rmargin at screen 0.87
set key at screen 0.88, screen 0.9 left top title 'migratetype' Left reverse
plot blockfile using 1:2:(R(mcol[$3+1])):(G(mcol[$3+1])):(B(mcol[$3+1])) with rgbimage notitle, \
     for [i=1:4] NaN with boxes fc rgb sprintf('#%06x', mcol[i]) title mname[i]
unset multiplot

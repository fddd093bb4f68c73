#!/bin/busybox sh
# Dump the memory-manager state of a freshly booted kernel, then power off.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
show() { echo "=== $1"; $bb cat "$1"; }
echo "=== mmreplay-proc-dump begin"
show /proc/cmdline
show /proc/meminfo
show /proc/zoneinfo
show /proc/buddyinfo
show /proc/pagetypeinfo
for f in min_free_kbytes watermark_scale_factor watermark_boost_factor lowmem_reserve_ratio \
	percpu_pagelist_high_fraction overcommit_memory overcommit_ratio overcommit_kbytes \
	admin_reserve_kbytes user_reserve_kbytes extfrag_threshold highmem_is_dirtyable \
	min_unmapped_ratio swappiness dirty_ratio dirty_background_ratio max_map_count \
	mmap_min_addr zone_reclaim_mode; do
	[ -e /proc/sys/vm/$f ] && echo "vm.$f = $($bb cat /proc/sys/vm/$f)"
done
show /sys/kernel/mm/transparent_hugepage/enabled
show /sys/kernel/mm/transparent_hugepage/defrag
show /proc/vmstat
show /proc/slabinfo
show /proc/vmallocinfo
show /proc/iomem
echo "=== mmreplay-proc-dump end"
$bb poweroff -f

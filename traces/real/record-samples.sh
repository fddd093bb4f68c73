#!/bin/sh
# Re-records the real samples of this directory (root; tracefs; trace-cmd installed).
# Usage: traces/real/record-samples.sh [MMREPLAY]   (from the repository root)
# Each recording is followed by `mmreplay import` into the .mmt next to it.
set -e
M=${1:-bin/mmreplay}
here=$(dirname "$0")
w=/tmp/mmr
mkdir -p $w
gcc -O0 -o $w/cowhog "$here/src/cowhog.c"
gcc -O2 -o $w/oomhog "$here/src/oomhog.c"
gcc -O2 -o $w/bpfmaps "$here/src/bpfmaps.c"
sh "$here/src/make-project.sh" $w/build
make -s -C $w/build clean

$M record -o "$here/shell-loop.dat" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do ls -l /etc >/dev/null; grep -c root /etc/passwd >/dev/null; date >/dev/null; cat /proc/meminfo | wc -l >/dev/null; done'
$M record -o "$here/make-j2.dat" -- make -s -C $w/build -j2
$M record -o "$here/cow-fork.dat" -- $w/cowhog

# OOM kill inside a v1 memory cgroup limited to 32 MiB of memory+swap.
cg=/sys/fs/cgroup/memory
if [ ! -e $cg/memory.limit_in_bytes ]; then
	mkdir -p $cg && mount -t cgroup -o memory memory $cg
fi
mkdir -p $cg/mmr-oom
echo 32M >$cg/mmr-oom/memory.limit_in_bytes
[ -e $cg/mmr-oom/memory.memsw.limit_in_bytes ] && echo 32M >$cg/mmr-oom/memory.memsw.limit_in_bytes
$M record -o "$here/oom-cgroup.dat" -- sh -c "echo \$\$ >$cg/mmr-oom/cgroup.procs && exec $w/oomhog"

# System-wide (no --follow): the maps are freed by a kworker.
$M record -o "$here/vmalloc-bpf.dat" -- $w/bpfmaps

for f in shell-loop make-j2 cow-fork oom-cgroup vmalloc-bpf; do
	$M import "$here/$f.dat" -o "$here/$f.mmt"
done

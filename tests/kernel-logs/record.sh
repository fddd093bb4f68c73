#!/bin/sh
# Re-record the boot logs in this directory (see README.md).
# Usage: KDIR=/tmp/kern/x sh record.sh  (KDIR holds the dpkg -x trees of the
# linux-image-6.1.0-50-{686,686-pae,amd64} packages). Needs qemu-system-x86.
set -eu
KDIR=${KDIR:-/tmp/kern/x}
OUT=${OUT:-$(dirname "$0")}
VER=6.1.0-50
DYNDBG='dyndbg="file mm/mm_init.c +p; file mm/page_alloc.c +p"'

# boot NAME FLAVOUR QEMU_MEM MEM_OPT EXTRA
boot() {
	name=$1 flav=$2 qmem=$3 memopt=$4 extra=$5
	case $flav in
	amd64) qemu="qemu-system-x86_64 -cpu qemu64" ;;
	*) qemu="qemu-system-i386 -cpu qemu32,+pse36" ;;
	esac
	append="console=ttyS0${memopt:+ $memopt} nokaslr panic=-1 ignore_loglevel${extra:+ $extra}"
	cmd="$qemu -machine pc -m $qmem -smp 1 -nographic -no-reboot -kernel vmlinuz-$VER-$flav -append '$append'"
	raw=$(mktemp)
	# shellcheck disable=SC2086
	timeout 120 $qemu -machine pc -m "$qmem" -smp 1 -nographic -no-reboot \
		-kernel "$KDIR/linux-image-$VER-$flav/boot/vmlinuz-$VER-$flav" \
		-append "$append" >"$raw" 2>&1 </dev/null || true
	{
		echo "# $cmd"
		# Drop the firmware chatter and terminal escapes before the kernel's
		# first line; keep everything from "Linux version" to the panic.
		tr -d '\r' <"$raw" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
			sed -n '/Linux version/,$p' | sed 's/^.*\(\[ *[0-9]*\.[0-9]*\] Linux version\)/\1/'
	} >"$OUT/$name.log"
	grep -q 'Kernel panic' "$OUT/$name.log" || echo "WARNING: $name did not reach the panic" >&2
	rm -f "$raw"
}

for flav in 686 686-pae amd64; do
	for m in 256M 512M 1G 5G; do
		boot "$flav-mem$m" "$flav" 6G "mem=$m" ""
		boot "$flav-mem$m-debug" "$flav" 6G "mem=$m" "memblock=debug $DYNDBG"
	done
done
for q in 1G 5G; do
	boot "686-nomem-m$q" 686 "$q" "" ""
	boot "686-nomem-m$q-debug" 686 "$q" "" "memblock=debug $DYNDBG"
done

#!/bin/sh
# Re-record the boot logs in this directory (see README.md).
# Usage: KDIR=/tmp/kern/x BUSYBOX=/tmp/kern/bb/bin/busybox sh record.sh
# KDIR holds the dpkg -x trees of the linux-image-6.1.0-50-{686,686-pae,amd64}
# packages; BUSYBOX is the static i386 busybox of Debian's busybox-static:i386
# (runs under all three kernels). Needs qemu-system-x86 and cpio.
set -eu
KDIR=${KDIR:-/tmp/kern/x}
OUT=${OUT:-$(dirname "$0")}
VER=6.1.0-50
DYNDBG='dyndbg="file mm/mm_init.c +p; file mm/page_alloc.c +p"'

BUSYBOX=${BUSYBOX:-/tmp/kern/bb/bin/busybox}

# An initramfs whose /init dumps /proc and /sys memory state, then powers off.
mkinitrd() {
	d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/dev" "$d/proc" "$d/sys"
	cp "$BUSYBOX" "$d/bin/busybox"
	mknod -m 600 "$d/dev/console" c 5 1
	mknod -m 666 "$d/dev/null" c 1 3
	cp "$(dirname "$0")/proc-dump-init.sh" "$d/init"
	chmod 755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc 2>/dev/null | gzip -9) >"$1"
	rm -rf "$d"
}

# boot NAME FLAVOUR QEMU_MEM MEM_OPT EXTRA [INITRD]
boot() {
	name=$1 flav=$2 qmem=$3 memopt=$4 extra=$5 initrd=${6:-}
	case $ONLY in
	all | panic | proc) ;;
	*) [ "$name" = "$ONLY" ] || return 0 ;;
	esac
	case $flav in
	amd64) qemu="qemu-system-x86_64 -cpu qemu64" ;;
	*) qemu="qemu-system-i386 -cpu qemu32,+pse36" ;;
	esac
	# qemu-system-i386 7.2 (TCG) hangs as soon as a user process runs from
	# RAM above 4 GiB (PAE); the x86_64 binary with the same CPU model and
	# machine gives the same guest (identical memory-setup lines) and works.
	case $name in
	686-pae-mem5G-proc) qemu="qemu-system-x86_64 -cpu qemu32,+pse36" ;;
	esac
	append="console=ttyS0${memopt:+ $memopt} nokaslr panic=-1 ignore_loglevel${extra:+ $extra}"
	cmd="$qemu -machine pc -m $qmem -smp 1 -nographic -no-reboot -kernel vmlinuz-$VER-$flav${initrd:+ -initrd proc-dump.cpio.gz} -append '$append'"
	raw=$(mktemp)
	# shellcheck disable=SC2086
	timeout 120 $qemu -machine pc -m "$qmem" -smp 1 -nographic -no-reboot \
		-kernel "$KDIR/linux-image-$VER-$flav/boot/vmlinuz-$VER-$flav" \
		${initrd:+-initrd "$initrd"} \
		-append "$append" >"$raw" 2>&1 </dev/null || true
	{
		echo "# $cmd"
		# Drop the firmware chatter and terminal escapes before the kernel's
		# first line; keep everything from "Linux version" to the panic.
		tr -d '\r' <"$raw" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
			sed -n '/Linux version/,$p' | sed 's/^.*\(\[ *[0-9]*\.[0-9]*\] Linux version\)/\1/'
	} >"$OUT/$name.log"
	if [ -n "$initrd" ]; then
		grep -q 'mmreplay-proc-dump end' "$OUT/$name.log" || echo "WARNING: $name: no complete /proc dump" >&2
	else
		grep -q 'Kernel panic' "$OUT/$name.log" || echo "WARNING: $name did not reach the panic" >&2
	fi
	rm -f "$raw"
}

ONLY=${ONLY:-all}   # all | panic | proc | NAME of one log
INITRD=$(mktemp)
[ "$ONLY" = panic ] || mkinitrd "$INITRD"
for flav in 686 686-pae amd64; do
	for m in 256M 512M 1G 5G; do
		if [ "$ONLY" != proc ]; then
			boot "$flav-mem$m" "$flav" 6G "mem=$m" ""
			boot "$flav-mem$m-debug" "$flav" 6G "mem=$m" "memblock=debug $DYNDBG"
		fi
		[ "$ONLY" = panic ] || boot "$flav-mem$m-proc" "$flav" 6G "mem=$m" "no_hash_pointers" "$INITRD"
	done
done
for q in 1G 5G; do
	if [ "$ONLY" != proc ]; then
		boot "686-nomem-m$q" 686 "$q" "" ""
		boot "686-nomem-m$q-debug" 686 "$q" "" "memblock=debug $DYNDBG"
	fi
	[ "$ONLY" = panic ] || boot "686-nomem-m$q-proc" 686 "$q" "" "no_hash_pointers" "$INITRD"
done
rm -f "$INITRD"

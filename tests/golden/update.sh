#!/bin/sh
# Regenerate the golden outputs of `mmreplay boot` checked by tests/unit/test_boot_golden.c.
# Usage: tests/golden/update.sh [path/to/mmreplay]   (or: make golden)
# Review the diff (git diff tests/golden) before committing: a change here is a change in
# what the simulated kernel reports.
set -eu
BIN=${1:-bin/mmreplay}
DIR=$(dirname "$0")
gen() {
	out=$1
	shift
	"$BIN" "$@" >"$DIR/$out.tmp"
	mv "$DIR/$out.tmp" "$DIR/$out"
}
for m in 256M 512M 1G 5G; do
	gen "boot-i386-$m.txt" boot --arch=i386 --mem="$m"
done
gen boot-i386-pae-5G.txt boot --arch=i386-pae --mem=5G
gen boot-x86_64-1G.txt boot --arch=x86_64 --mem=1G
echo "updated $(ls "$DIR"/boot-*.txt | wc -l) golden files in $DIR"

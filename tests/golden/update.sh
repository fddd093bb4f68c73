#!/bin/sh
# Regenerate the golden outputs of `mmreplay boot` and `mmreplay proc` checked by
# tests/unit/test_boot_golden.c and tests/unit/test_proc_cli.c.
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
# mmreplay proc (tests/unit/test_proc_cli.c)
gen proc-tiny-all.txt proc traces/samples/tiny.txt --at 'after setup' --file all --swap=64M
gen proc-shell-tasks.txt proc "$DIR/proc-shell-head.txt" --at 290 --arch=x86_64 --mem=512M \
	--file 1000/status,1003/status,1003/oom_score,1003/oom_score_adj,meminfo
echo "updated $(ls "$DIR"/boot-*.txt "$DIR"/proc-*.txt | wc -l) golden files in $DIR"

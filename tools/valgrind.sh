#!/bin/sh
# The wrapper under valgrind memcheck on the argv corpus (the fuzzer's seeds
# and what it found, plus the libvirt argv of the example): zero errors.
# memcheck needs a dynamically linked wrapper (it replaces malloc), so one
# is built in BUILD-valgrind. Prints TAP.
# Usage: tools/valgrind.sh BUILD [MAX_INPUTS]
set -u
build=$1 max=${2:-150}
src=$(cd "$(dirname "$0")/.." && pwd)
vb=$build-valgrind
work=$build-fuzz/work
[ -f "$vb/build.ninja" ] || meson setup "$vb" -Dstatic_wrapper=false > "$vb.setup.log" 2>&1
ninja -C "$vb" src/wrap/qemu-p2p-wrap > "$vb.build.log" 2>&1 || { echo "not ok 1 - valgrind: build failed (see $vb.build.log)"; echo "1..1"; exit 1; }
[ -d "$work/sys" ] || { echo "not ok 1 - valgrind: run tools/fuzz.sh first (it prepares the host)"; echo "1..1"; exit 1; }
n=0 errors=0 first=""
for f in $(ls "$work"/seed-argv/* "$build-fuzz"/corpus-argv/* 2> /dev/null | head -n "$max") "$src/fuzz/regressions/argv/"*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	# NUL-separated arguments, as the fuzzer reads them.
	QEMU_P2P_CONFIG=$work/etc/qemu-p2p.conf QEMU_P2P_SYSFS=$work/sys \
		xargs -0 -a "$f" valgrind -q --error-exitcode=99 --leak-check=no --track-fds=no \
		"$vb/src/wrap/qemu-p2p-wrap" > /dev/null 2> "$vb/last.log"
	rc=$?
	if [ $rc -eq 99 ] || grep -q '^==[0-9]*== ' "$vb/last.log"; then
		errors=$((errors + 1)); [ -n "$first" ] || { first=$f; cp "$vb/last.log" "$vb/first-error.log"; }
	fi
done
if [ "$errors" -eq 0 ] && [ "$n" -gt 0 ]; then
	echo "ok 1 - valgrind memcheck: the wrapper on $n corpus inputs, 0 errors"
else
	echo "not ok 1 - valgrind memcheck: $errors of $n inputs with errors (first: $first; see $vb/first-error.log)"
fi
echo "1..1"

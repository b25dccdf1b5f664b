#!/bin/sh
# The guest programs against a real NVIDIA driver: qemu-p2p-guest check,
# qemu-p2p-guest boot (in a scratch root) and p2pbench, beside a plain
# cuMemcpy loop's figures. Until this runs on a GPU, only the libcuda test
# double has exercised the dlopen + cuGetProcAddress(_v2) path; the loop
# takes the driver's exported symbols (dlsym, as a program linked with
# -lcuda does), so it is a second opinion on both the loader and the
# figures. At most 5 minutes (every step runs under a time limit), no
# network.
#
# A lent GPU machine reaches no package registry and may lack gcc, meson or
# json-c's headers, so the programs come from, in this order:
#   1. a bundle made beforehand on a build machine and carried with the tree:
#      "tools/gpu-check.sh --prepare" writes .gpu-check/ (the two programs,
#      the loop, libjson-c.so.5; under 1 MB; glibc 2.34 or newer there);
#   2. this tree's build/, when its programs start there;
#   3. a compile with cc of the few sources they need, when cc and json-c's
#      headers are there (meson is not needed).
# Otherwise it says what is missing and exits 2. It needs a POSIX shell,
# coreutils and awk; nothing else.
#
# Usage: tools/gpu-check.sh --prepare [DIR]    on the build machine
#        tools/gpu-check.sh [--bundle DIR] [--out DIR]    on the GPU machine
# --out DIR keeps the log and each program's output there.
# For a trial without a GPU: GPU_CHECK_SYSFS=DIR (a guest tree, e.g. made by
# tests/fixtures/mkhost.py) and LD_LIBRARY_PATH=build/tests (the test double).
# Exit status: 0 every step ran to its end, 1 a step crashed or ran out of
# time, 2 no programs, 64 usage error.
set -u
cd "$(dirname "$0")/.." || exit 2
TREE=$(pwd)
SIZE=64M

usage() {
	echo "usage: tools/gpu-check.sh --prepare [DIR] | [--bundle DIR] [--out DIR]" >&2
	exit 64
}

# The plain loop: cuMemcpy* through the symbols libcuda.so.1 exports (the
# names cuda.h maps to), the wall clock, synchronous copies.
write_loop() {
	cat > "$1" << 'EOF'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
static void *lib;
static void *sym(const char *name)
{
	void *p = dlsym(lib, name);

	if (!p) {
		fprintf(stderr, "cumemcpy: libcuda.so.1 exports no %s\n", name);
		exit(2);
	}
	return p;
}
#define CK(call)                                                                   \
	do {                                                                       \
		CUresult r_ = (call);                                              \
		if (r_) {                                                          \
			fprintf(stderr, "cumemcpy: %s: CUDA error %d\n", #call, r_); \
			exit(1);                                                   \
		}                                                                  \
	} while (0)
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
int main(int argc, char **argv)
{
	size_t size = (size_t)(argc > 1 ? atoi(argv[1]) : 64) << 20;
	int iters = 10, n = 0, version = 0;
	CUresult (*init)(unsigned), (*drv)(int *), (*count)(int *), (*get)(int *, int), (*retain)(void **, int),
		(*current)(void *), (*sync)(void), (*alloc)(CUdeviceptr *, size_t),
		(*dtod)(CUdeviceptr, CUdeviceptr, size_t), (*htod)(CUdeviceptr, const void *, size_t),
		(*dtoh)(void *, CUdeviceptr, size_t), (*can)(int *, int, int), (*enable)(void *, unsigned),
		(*peer)(CUdeviceptr, void *, CUdeviceptr, void *, size_t);
	void *ctx[16];
	CUdeviceptr a[16], b[16];
	char *host = malloc(size);

	if (!(lib = dlopen("libcuda.so.1", RTLD_NOW))) {
		fprintf(stderr, "cumemcpy: %s\n", dlerror());
		return 2;
	}
	init = sym("cuInit"), drv = sym("cuDriverGetVersion"), count = sym("cuDeviceGetCount");
	get = sym("cuDeviceGet"), retain = sym("cuDevicePrimaryCtxRetain"), current = sym("cuCtxSetCurrent");
	sync = sym("cuCtxSynchronize"), alloc = sym("cuMemAlloc_v2"), dtod = sym("cuMemcpyDtoD_v2");
	htod = sym("cuMemcpyHtoD_v2"), dtoh = sym("cuMemcpyDtoH_v2"), can = sym("cuDeviceCanAccessPeer");
	enable = sym("cuCtxEnablePeerAccess"), peer = sym("cuMemcpyPeer");
	CK(init(0));
	CK(drv(&version));
	CK(count(&n));
	printf("driver CUDA %d.%d, %d GPUs, %zu MiB x %d synchronous copies\n", version / 1000, version % 1000 / 10,
	       n, size >> 20, iters);
	for (int i = 0; i < n && i < 16; i++) {
		int dev;

		CK(get(&dev, i));
		CK(retain(&ctx[i], dev));
		CK(current(ctx[i]));
		CK(alloc(&a[i], size));
		CK(alloc(&b[i], size));
	}
	for (int i = 0; i < n && i < 16; i++) {
		double t;

		CK(current(ctx[i]));
		CK(dtod(b[i], a[i], size));
		CK(sync());
		t = now();
		for (int k = 0; k < iters; k++)
			CK(dtod(b[i], a[i], size));
		CK(sync());
		printf("local GPU%d %.2f GB/s\n", i, size * (double)iters / (now() - t) / 1e9);
		t = now();
		for (int k = 0; k < iters; k++)
			CK(htod(a[i], host, size));
		printf("htod GPU%d %.2f GB/s (pageable host memory)\n", i, size * (double)iters / (now() - t) / 1e9);
		t = now();
		for (int k = 0; k < iters; k++)
			CK(dtoh(host, a[i], size));
		printf("dtoh GPU%d %.2f GB/s (pageable host memory)\n", i, size * (double)iters / (now() - t) / 1e9);
	}
	for (int i = 0; i < n && i < 16; i++)
		for (int j = 0; j < n && j < 16; j++) {
			int ok = 0;
			double t;

			if (i == j)
				continue;
			CK(can(&ok, i, j));
			CK(current(ctx[i]));
			if (ok) {
				CUresult r = enable(ctx[j], 0);

				if (r && r != 704) /* CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED */
					CK(r);
			}
			CK(peer(b[j], ctx[j], a[i], ctx[i], size));
			CK(sync());
			t = now();
			for (int k = 0; k < iters; k++)
				CK(peer(b[j], ctx[j], a[i], ctx[i], size));
			CK(sync());
			printf("peer GPU%d->GPU%d %.2f GB/s (peer access %s)\n", i, j,
			       size * (double)iters / (now() - t) / 1e9, ok ? "on" : "off: staged");
		}
	return 0;
}
EOF
}

# The two programs from the sources they need, and the loop, into $1.
compile() {
	cflags="-std=c11 -O2 -D_GNU_SOURCE -Isrc/shared -Isrc/lib -Isrc/cli -Isrc/p2pbench"
	version='-DQEMU_P2P_VERSION="gpu-check"'
	jc=$(pkg-config --cflags json-c 2> /dev/null || echo -I/usr/include/json-c)
	jl=$(pkg-config --libs json-c 2> /dev/null || echo -ljson-c)
	mkdir -p "$1" || return 1
	# shellcheck disable=SC2086
	$CC $cflags "$version" $jc -o "$1/qemu-p2p-guest" src/guest/*.c src/cli/cliout.c src/lib/pci.c src/lib/sysfs.c \
		src/lib/hostscan.c src/lib/caps.c src/lib/topo.c src/lib/level.c src/shared/*.c \
		src/p2pbench/cudaload.c src/p2pbench/proof.c $jl -ldl &&
		$CC $cflags "$version" $jc -o "$1/p2pbench" src/p2pbench/*.c src/lib/pci.c src/shared/util.c $jl -ldl -lm &&
		write_loop "$1/cumemcpy.c" && $CC -std=c11 -O2 -D_GNU_SOURCE -o "$1/cumemcpy" "$1/cumemcpy.c" -ldl
}

find_cc() {
	for c in "${CC:-}" cc gcc clang; do
		[ -n "$c" ] && command -v "$c" > /dev/null && CC=$c && return 0
	done
	return 1
}

prepare() {
	dir=${1:-.gpu-check}
	find_cc || { echo "gpu-check --prepare: no C compiler" >&2; exit 2; }
	rm -rf "$dir" && mkdir -p "$dir/lib" || exit 2
	compile "$dir" || { echo "gpu-check --prepare: the compile failed (json-c's headers: libjson-c-dev)" >&2; exit 2; }
	lib=$(ldd "$dir/qemu-p2p-guest" | awk '/libjson-c/ { print $3 }')
	if [ -z "$lib" ] || ! cp -L "$lib" "$dir/lib/"; then
		echo "gpu-check --prepare: libjson-c not found" >&2
		exit 2
	fi
	rm -f "$dir/cumemcpy.c"
	echo "gpu-check: $dir ready ($(du -sh "$dir" | cut -f1)); on the GPU machine: tools/gpu-check.sh --bundle $dir"
	exit 0
}

# Sets BIN (and the library path) to a directory whose programs start.
find_programs() {
	for b in ${BUNDLE:+"$BUNDLE"} .gpu-check; do
		case $b in /*) ;; *) b=$TREE/$b ;; esac
		[ -x "$b/qemu-p2p-guest" ] || continue
		LD_LIBRARY_PATH="$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		export LD_LIBRARY_PATH
		"$b/qemu-p2p-guest" --version > /dev/null 2>&1 && BIN=$b LOOP=$b/cumemcpy FROM="bundle $b" && return 0
	done
	if build/src/guest/qemu-p2p-guest --version > /dev/null 2>&1 && build/src/p2pbench/p2pbench --version > /dev/null 2>&1; then
		mkdir -p "$WORK/bin" && cp build/src/guest/qemu-p2p-guest build/src/p2pbench/p2pbench "$WORK/bin/"
		BIN=$WORK/bin FROM="this tree's build/"
	elif find_cc && compile "$WORK/bin" 2> "$WORK/compile.err"; then
		BIN=$WORK/bin LOOP=$BIN/cumemcpy FROM="compiled here with $CC"
		return 0
	else
		echo "gpu-check: no programs to run: no bundle (.gpu-check, made by tools/gpu-check.sh --prepare on a" >&2
		echo "build machine and carried with the tree), no working build/, and no compile here:" >&2
		if [ -n "${CC:-}" ]; then sed 's/^/  /' "$WORK/compile.err" | head -n 5 >&2; else echo "  no C compiler" >&2; fi
		exit 2
	fi
	# The loop beside build/'s programs needs only cc.
	find_cc && write_loop "$WORK/cumemcpy.c" && $CC -std=c11 -O2 -D_GNU_SOURCE -o "$WORK/bin/cumemcpy" "$WORK/cumemcpy.c" -ldl && LOOP=$BIN/cumemcpy
	return 0
}

FAILED=0
# step NAME SECONDS COMMAND...: runs it under a time limit, output to the
# screen and to $WORK/NAME.txt; a crash or a timeout fails the check.
step() {
	name=$1 limit=$2
	shift 2
	echo
	echo "== $name: $*"
	timeout -k 5 "$limit" "$@" > "$WORK/$name.txt" 2>&1
	rc=$?
	cat "$WORK/$name.txt"
	echo "-- $name: exit status $rc"
	if [ "$rc" -ge 124 ]; then
		FAILED=1
		echo "-- $name: $([ "$rc" -eq 124 ] && echo "ran out of its $limit s" || echo "crashed (status $rc)")"
	fi
	echo "$rc" > "$WORK/$name.rc"
}

# The summary's median over GPU pairs (or the local copy with one GPU).
pb_summary() {
	awk -v m="$1" -v col="$2" 'index($0, m) == 1 { print $(NF - 3 + col) }' "$WORK/p2pbench.txt"
}

side_by_side() {
	echo
	echo "== Side by side (GB/s): p2pbench (median of 3 timed runs of 10 async copies of $SIZE, event-timed)"
	echo "   against the plain loop (10 synchronous cuMemcpy of $SIZE, wall clock)"
	[ -s "$WORK/p2pbench.txt" ] || { echo "   (no p2pbench figures)"; return; }
	printf '   %-44s %12s\n' "p2pbench unidirectional, P2P off (summary)" "$(pb_summary 'unidirectional bandwidth' 1)"
	printf '   %-44s %12s\n' "p2pbench unidirectional, P2P on (summary)" "$(pb_summary 'unidirectional bandwidth' 2)"
	if [ -s "$WORK/cumemcpy.txt" ]; then
		awk '/^peer .*on\)$/ { print $3 } ' "$WORK/cumemcpy.txt" | sort -n | awk '{ v[NR] = $1 } END {
			if (NR) printf "   %-44s %12.2f\n", "loop cuMemcpyPeer, peer access on (median)", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
		awk '/^local / { printf "   %-44s %12.2f\n", "loop cuMemcpyDtoD on " $2, $3 }
		     /^htod / { printf "   %-44s %12.2f\n", "loop host to " $2 " (boot moves 12 MiB/dir.)", $3 }' "$WORK/cumemcpy.txt"
	fi
	awk '/^Unidirectional P2P=Enabled/ { on = 1; next } on && /D\\D/ { next }
	     on && NF == 0 { exit } on { printf "   %-44s %12.2f\n", "p2pbench local copy on GPU" $1, $($1 + 2) }' "$WORK/p2pbench.txt"
}

main() {
	BUNDLE="" OUTDIR=""
	while [ $# -gt 0 ]; do
		case $1 in
		--prepare) shift; prepare "${1:-}" ;;
		--bundle) [ $# -ge 2 ] || usage; BUNDLE=$2; shift 2 ;;
		--out) [ $# -ge 2 ] || usage; OUTDIR=$2; shift 2 ;;
		*) usage ;;
		esac
	done
	WORK=$(mktemp -d) || exit 2
	trap 'rm -rf "$WORK"' EXIT
	LOOP=""
	find_programs
	SYSFS=${GPU_CHECK_SYSFS:+--sysfs $GPU_CHECK_SYSFS}
	echo "gpu-check: programs from $FROM; $(uname -srm)"
	if command -v nvidia-smi > /dev/null; then
		step nvidia-smi 15 nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version --format=csv
	fi
	# shellcheck disable=SC2086
	step check 30 "$BIN/qemu-p2p-guest" check $SYSFS
	mkdir -p "$WORK/root"
	# shellcheck disable=SC2086
	step boot 75 "$BIN/qemu-p2p-guest" boot --root "$WORK/root" $SYSFS
	step status 10 "$BIN/qemu-p2p-guest" status --root "$WORK/root"
	step p2pbench 100 "$BIN/p2pbench" --size "$SIZE" --iters 10 --reps 3
	if [ -n "$LOOP" ] && [ -x "$LOOP" ]; then
		step cumemcpy 45 "$LOOP" "${SIZE%M}"
	else
		echo
		echo "== cumemcpy: skipped (no compiler here and none in the bundle)"
	fi
	side_by_side
	if [ -n "$OUTDIR" ]; then
		mkdir -p "$OUTDIR" && cp "$WORK"/*.txt "$OUTDIR/" && cp "$WORK/root/run/qemu-p2p-guest/status.json" "$OUTDIR/" 2> /dev/null
	fi
	echo
	echo "gpu-check: $([ "$FAILED" = 0 ] && echo "every step ran to its end" || echo "a step crashed or ran out of time")"
	exit "$FAILED"
}

main "$@"

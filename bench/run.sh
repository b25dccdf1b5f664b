#!/bin/sh
# make bench: the wrapper's cost on a VM start, measured side by side with
# exec of a stand-in QEMU that exits at once (so the ratio is an upper
# bound of the wrapper's share of a real start), and topo on a big host.
# Usage: bench/run.sh BUILD [RUNS]
set -eu
build=$(cd "$1" && pwd)
runs=${2:-50}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$build/bench-work
standin=$build/bench/standin
harness=$build/bench/harness
wrap=$build/src/wrap/qemu-p2p-wrap
cli=$build/src/cli/qemu-p2p
rm -rf "$work"
mkdir -p "$work"

# setup NAME MODE HOST: a configuration dir whose real QEMU is the stand-in
# and whose host facts are current (version 8.2.2: no capability guard).
setup() {
	mkdir -p "$work/$1/qemu-p2p.d"
	if [ "$2" = map ]; then cp "$src/examples/qemu-p2p.conf" "$work/$1/qemu-p2p.conf"
	else printf '[cliques]\nmode = auto\n' > "$work/$1/qemu-p2p.conf"; fi
	printf '[qemu]\nbinary = %s\n' "$standin" >> "$work/$1/qemu-p2p.conf"
	printf '[qemu]\nbinary = %s\nversion = 8.2.2\nidentity = %s\n' "$standin" \
		"$(stat -L -c '%d:%i:%s:%Y' "$standin")" > "$work/$1/qemu-p2p.d/host.conf"
	[ "$2" != map16 ] || { printf '[cliques]\nmode = map\n[map]\n'; awk '/10de/ { split($2, p, "/"); print "0 = " p[length(p)] }' "$3"; } > "$work/$1/qemu-p2p.conf.map"
}

python3 "$src/tests/fixtures/mkhost.py" "$src/examples/blog-8gpu.host" "$work/blog"
python3 "$src/bench/bighost.py" 16 2000 > "$work/big.host"
python3 "$src/tests/fixtures/mkhost.py" "$work/big.host" "$work/big"
sh "$src/tools/libvirt-argv.sh" "$src/examples/gpu8-domain.xml" "$work/libvirt" | tail -n +2 > "$work/argv8"
# 16 GPUs: the 8-GPU argv with its GPU devices replaced by the big host's.
grep -v '"vfio-pci"' "$work/argv8" | sed '/^-device$/{N;/\n$/d}' > "$work/argv16"
awk '/10de/ { split($2, p, "/"); a = p[length(p)]; printf "-device\n{\"driver\":\"vfio-pci\",\"host\":\"%s\",\"id\":\"hostdev%d\"}\n", a, n++ }' \
	"$work/big.host" >> "$work/argv16"
grep -c '"vfio-pci"' "$work/argv8" "$work/argv16" >&2

setup map map "$work/big.host"
setup auto auto "$work/big.host"
setup map16 map16 "$work/big.host"
mv "$work/map16/qemu-p2p.conf.map" "$work/map16/qemu-p2p.conf"
printf '[qemu]\nbinary = %s\n' "$standin" >> "$work/map16/qemu-p2p.conf"

# The wrapper must really add cliques in each case, or the numbers lie.
for c in "map blog argv8" "auto blog argv8" "map16 big argv16" "auto big argv16"; do
	set -- $c
	QEMU_P2P_CONFIG=$work/$1/qemu-p2p.conf QEMU_P2P_SYSFS=$work/$2 \
		xargs -d '\n' "$cli" rewrite --explain --qemu "$standin" -- < "$work/$3" 2>&1 >/dev/null | head -n 1 | cut -c1-110
done

echo
echo "== VM start: the wrapper vs exec of the stand-in QEMU directly"
"$harness" "$runs" \
	"direct exec (8-GPU argv)" -- "$standin" "@$work/argv8" --- \
	"(a) wrapper, map, 8-GPU libvirt argv" QEMU_P2P_CONFIG="$work/map/qemu-p2p.conf" QEMU_P2P_SYSFS="$work/blog" \
		-- "$wrap" "@$work/argv8" --- \
	"(b) wrapper, auto, example host" QEMU_P2P_CONFIG="$work/auto/qemu-p2p.conf" QEMU_P2P_SYSFS="$work/blog" \
		-- "$wrap" "@$work/argv8" --- \
	"(c) wrapper, auto, 16 GPUs/2000 fns" QEMU_P2P_CONFIG="$work/auto/qemu-p2p.conf" QEMU_P2P_SYSFS="$work/big" \
		-- "$wrap" "@$work/argv16" --- \
	"(c) wrapper, map, 16 GPUs/2000 fns" QEMU_P2P_CONFIG="$work/map16/qemu-p2p.conf" QEMU_P2P_SYSFS="$work/big" \
		-- "$wrap" "@$work/argv16"
echo
# Auto vs map on this host is the (c) pair above. Here the wrapper runs right
# after a 35 ms topo each round, with colder caches: compare topo to it only.
echo "== 16 GPUs, 2000 PCI functions: topo beside the wrapper in map mode"
"$harness" "$runs" \
	"wrapper, map" QEMU_P2P_CONFIG="$work/map16/qemu-p2p.conf" QEMU_P2P_SYSFS="$work/big" -- "$wrap" "@$work/argv16" --- \
	"qemu-p2p topo (whole host)" -- "$cli" topo --sysfs "$work/big"

#!/bin/bash
# The VFIO lab (make lab; make check runs it last): a nested VM (L1) under
# QEMU TCG with an emulated IOMMU, Debian's own kernel (apt-get download,
# dpkg -x: never installed here) with AppArmor on, a busybox initramfs, the
# host's root over 9p under a tmpfs overlay, and three emulated display
# devices (virtio-gpu-pci: two on the root bus, one behind a PCIe root
# port). tests/lab/inside.sh runs in L1 as an operator would and prints TAP,
# which this script passes on.
# Usage: tests/lab/lab.sh BUILD   (QP2P_BUILD/QP2P_SRC from meson also work)
set -u
src=${QP2P_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=$(cd "${QP2P_BUILD:-${1:-$src/build}}" && pwd)
cache=${LAB_CACHE:-$src/build-lab-cache}    # downloads, kept between runs
work=$(mktemp -d /tmp/qp2p-lab.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
bail() { echo "not ok 1 - lab: $*"; echo "1..1"; exit 1; }

# 1. Debian's kernel and busybox-static, downloaded once.
mkdir -p "$cache"
kernel_pkg() { apt-cache depends linux-image-amd64 2> /dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1; }
kpkg=$(kernel_pkg)
if [ -z "$kpkg" ] && [ "$(id -u)" = 0 ]; then apt-get update -q > /dev/null 2>&1; kpkg=$(kernel_pkg); fi
[ -n "$kpkg" ] || bail "apt-cache knows no linux-image-amd64 (run apt-get update as root)"
if [ ! -d "$cache/$kpkg" ]; then
	(cd "$cache" && apt-get download "$kpkg" busybox-static > "$cache/download.log" 2>&1) || bail "apt-get download $kpkg failed (see $cache/download.log)"
	dpkg -x "$cache/${kpkg}_"*.deb "$cache/$kpkg.tmp" && dpkg -x "$cache"/busybox-static_*.deb "$cache/$kpkg.tmp" &&
		mv "$cache/$kpkg.tmp" "$cache/$kpkg" || bail "dpkg -x failed"
fi
kroot=$cache/$kpkg
kver=${kpkg#linux-image-}
moddir=$kroot/lib/modules/$kver/kernel

# 2. The initramfs: busybox, /init, the modules and their dependencies
#    (read from each module's .modinfo), in load order.
declare -A path seen
while IFS= read -r f; do n=$(basename "$f" .ko); path[${n//-/_}]=$f; done < <(find "$moddir" -name '*.ko')
order=()
add() {
	local m=${1//-/_} d
	[ -n "${seen[$m]:-}" ] && return
	seen[$m]=1
	[ -n "${path[$m]:-}" ] || return 0       # built in
	for d in $(grep -ao 'depends=[a-z0-9_,-]*' "${path[$m]}" | head -n 1 | cut -d= -f2 | tr , ' '); do add "$d"; done
	order+=("$m")
}
for m in virtio_pci 9pnet_virtio 9p overlay vfio_pci vfio_iommu_type1; do add "$m"; done
ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/modules"
cp "$kroot/bin/busybox" "$ir/bin/busybox"
cp "$src/tests/lab/init" "$ir/init"; chmod 755 "$ir/init"
for m in "${order[@]}"; do cp "${path[$m]}" "$ir/modules/$m.ko"; echo "$m.ko"; done > "$ir/modules.order"
(cd "$ir" && find . | "$kroot/bin/busybox" cpio -o -H newc 2> /dev/null | gzip -1) > "$work/initrd.gz"

# 3. L1. KVM only where a real one is loaded (the CI machine's /dev/kvm is
#    a software KVM that hangs a stock kernel: FACTS §6). no_timer_check:
#    on a loaded machine TCG can miss the kernel's early timer test, which
#    with interrupt remapping panics ("timer doesn't work through
#    Interrupt-remapped IO-APIC"). AppArmor is Debian's default LSM; named
#    here because apparmor.sh depends on it.
accel=tcg machine=q35
if [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then accel=kvm; machine=q35,kernel-irqchip=split; fi
echo "# lab: $kpkg, ${#order[@]} modules, L1 on $accel; prepared in $((SECONDS - start)) s"
timeout 900 qemu-system-x86_64 -accel "$accel" -machine "$machine" -cpu max -m 1024 -smp 2 -nodefaults \
	-display none -no-reboot -serial stdio -device intel-iommu,intremap=on \
	-kernel "$kroot/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 intel_iommu=on panic=-1 quiet no_timer_check apparmor=1 security=apparmor lab.script=$src/tests/lab/inside.sh lab.args=$build,$kroot/boot/vmlinuz-$kver,$work/initrd.gz,$src" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-device virtio-gpu-pci,addr=0x4 -device virtio-gpu-pci,addr=0x5 \
	-device pcie-root-port,id=rp1,chassis=1,addr=0x6 -device virtio-gpu-pci,bus=rp1 \
	< /dev/null > "$work/console" 2>&1
rc=$?
grep -E '^(ok|not ok|#)' "$work/console" | sed 's/\r$//' | grep -v '^1\.\.' > "$work/tap"
n=$(grep -cE '^(ok|not ok)' "$work/tap")
if [ "$n" -eq 0 ]; then
	echo "not ok 1 - lab: L1 printed no test result (exit $rc); its console:"
	tail -n 40 "$work/console" | sed 's/^/# /'
	echo "1..1"; exit 1
fi
# Renumber: the lines come from inside L1.
awk '/^(ok|not ok)/ { n++; sub(/^ok [0-9]+/, "ok " n); sub(/^not ok [0-9]+/, "not ok " n) } { print }' "$work/tap"
echo "# lab: wall time $((SECONDS - start)) s (L1 exit $rc)"
echo "1..$n"
! grep -q '^not ok' "$work/tap"

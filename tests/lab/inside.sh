#!/bin/bash
# Runs inside L1 (the host's root, read-only under a tmpfs overlay, as the
# namespace root; /run a tmpfs), as root, as an operator would: bind the
# emulated display devices to vfio-pci, refresh host facts, start the inner
# QEMU (L2) through qemu-p2p-wrap and read the devices' config space back
# through the PCI configuration ports (qtest); then the same confined by
# AppArmor as libvirt confines a VM (apparmor.sh). Prints TAP.
build=$1 kernel=$2 initrd=$3 src=$4
CLI=$build/src/cli/qemu-p2p
WRAP=$build/src/wrap/qemu-p2p-wrap
QEMU=/usr/bin/qemu-system-x86_64
T=/run/lab
mkdir -p "$T/etc/qemu-p2p.d"
export QEMU_P2P_CONFIG=$T/etc/qemu-p2p.conf
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# The three virtio-gpu-pci functions: two on the root bus, one behind a port.
root=() port=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1050 ] || continue
	a=$(basename "$d")
	case $(readlink -f "$d") in */pci0000:00/0000:00:*/0000:*) port=$a ;; *) root+=("$a") ;; esac
done
A=${root[0]:-} B=${root[1]:-} C=$port
check "L1 sees two display devices on the root bus and one behind a root port ($A $B $C)" \
	test -n "$A" -a -n "$B" -a -n "$C"

bind() {
	local d=/sys/bus/pci/devices/$1
	echo vfio-pci > "$d/driver_override"
	[ -e "$d/driver" ] && echo "$1" > "$d/driver/unbind"
	echo "$1" > /sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$d/driver")")" = vfio-pci ] && [ -e "/dev/vfio/$(basename "$(readlink "$d/iommu_group")")" ]
}
for a in $A $B $C; do check "$a bound to vfio-pci, its IOMMU group at /dev/vfio" bind "$a"; done

conf() { printf '[qemu]\nbinary = %s\n[cliques]\nmode = map\n[map]\n%s\n' "$QEMU" "$1" > "$QEMU_P2P_CONFIG"; }
conf "0 = $A $B"
"$CLI" refresh --qemu "$QEMU" > "$T/refresh" 2>&1
diag "$(grep -E 'QEMU|0xC8' "$T/refresh")"
check "refresh (root): 0xC8 free on both root-bus devices" sh -c "grep -q '^c8_free = .*$A' '$T/etc/qemu-p2p.d/host.conf' && grep -q '^c8_free = .*$B' '$T/etc/qemu-p2p.d/host.conf'"
check "refresh: the device behind the root port is left out of c8_free (a capability at 0xC8)" \
	sh -c "! grep -q '$C' '$T/etc/qemu-p2p.d/host.conf'"

dev() { # dev HOST ID SLOT [EXTRA]: a libvirt-style JSON -device
	printf '{"driver":"vfio-pci","host":"%s","id":"%s","bus":"pcie.0","addr":"0x%x","x-pci-vendor-id":4318%s}' "$1" "$2" "$3" "${4:-}"
}
# l2 PROGRAM ARGS...: runs L2 under qtest, reads 256 bytes of config space
# of slots 4 and 5 into $T/cfg4 and $T/cfg5 (hex bytes). L2's stdout and
# stderr go to $T/log through a pipe, as libvirt gives QEMU a pipe to
# virtlogd: AppArmor checks the files a confined process inherits at exec
# and would close a file of ours there, a pipe it leaves alone. Its
# confinement while it ran is in $T/label.
l2() {
	rm -f "$T/in" "$T/pid" "$T/log" "$T/label" "$T/cfg4" "$T/cfg5"; mkfifo "$T/in"
	cat "$T/in" | { echo $BASHPID > "$T/pid"; exec "$@" -machine q35 -accel tcg -S -qtest stdio \
		-qtest-log /dev/null -display none -nodefaults 2>&1; } | cat > "$T/log" &
	local pid="" slot reg i
	exec 3> "$T/in"
	for slot in 4 5; do
		for ((reg = 0; reg < 256; reg += 4)); do
			printf 'outl 0xcf8 0x%x\ninl 0xcfc\n' $((0x80000000 | slot << 11 | reg)) >&3
		done
	done
	for ((i = 0; i < 100; i++)); do
		pid=$(cat "$T/pid" 2> /dev/null)
		[ "$(grep -c '^OK 0x' "$T/log" 2> /dev/null)" -ge 128 ] && break
		[ -n "$pid" ] && ! kill -0 "$pid" 2> /dev/null && break
		sleep 0.1
	done
	[ -n "$pid" ] && cat "/proc/$pid/attr/current" > "$T/label" 2> /dev/null
	exec 3>&-
	[ -n "$pid" ] && kill "$pid" 2> /dev/null
	wait $! 2> /dev/null
	# Each "OK 0x..." answers one inl: four bytes, little-endian.
	local v b
	grep '^OK 0x' "$T/log" | while read -r _ v; do
		for b in 0 1 2 3; do printf '%02x\n' $(((v >> (8 * b)) & 255)); done
	done > "$T/bytes"
	head -n 256 "$T/bytes" > "$T/cfg4"; tail -n +257 "$T/bytes" > "$T/cfg5"
}
# p2p_cap FILE: walks the capability list; prints "OFFSET id BYTES" of the
# vendor capability with the "P2P" signature, nothing if none.
p2p_cap() {
	mapfile -t c < "$1"
	[ ${#c[@]} -eq 256 ] || return
	local off=$((16#${c[0x34]})) hops=0
	while [ "$off" -ne 0 ] && [ $hops -lt 48 ]; do
		if [ "${c[off]}" = 09 ] && [ "${c[off + 3]}${c[off + 4]}${c[off + 5]}" = 503250 ]; then
			echo "$(printf '0x%02x' $off) $(((16#${c[off + 6]} >> 3) & 15)) ${c[off]} ${c[off + 1]} ${c[off + 2]} ${c[off + 3]} ${c[off + 4]} ${c[off + 5]} ${c[off + 6]} ${c[off + 7]}"
			return
		fi
		off=$((16#${c[off + 1]})); hops=$((hops + 1))
	done
}

# 1. One group: both get the capability, the same id, the id logged.
conf "0 = $A $B"
l2 "$WRAP" -device "$(dev "$A" gpu0 4)" -device "$(dev "$B" gpu1 5)"
log=$(grep '^qemu-p2p:' "$T/log")
diag "wrapper: $log"
capA=$(p2p_cap "$T/cfg4") capB=$(p2p_cap "$T/cfg5")
diag "L2 config space, slot 4 ($A): P2P capability at ${capA:-none}" "L2 config space, slot 5 ($B): P2P capability at ${capB:-none}"
logged=$(sed -n 's/.*clique \([0-9]*\) = gpu0.*/\1/p' <<< "$log")
check "one group: the wrapper logged a clique for both" test -n "$logged"
check "one group: a vendor capability with the P2P signature on both, length 8" \
	sh -c "[ -n '$capA' ] && [ -n '$capB' ] && [ \"\$(echo '$capA' | cut -d' ' -f5)\" = 08 ] && [ \"\$(echo '$capB' | cut -d' ' -f5)\" = 08 ]"
check "one group: the same clique id on both (bits 6:3 of byte 6), equal to the id logged ($logged)" \
	sh -c "[ \"\$(echo '$capA' | cut -d' ' -f2)\" = '$logged' ] && [ \"\$(echo '$capB' | cut -d' ' -f2)\" = '$logged' ]"

# 1b. An id set by hand on one GPU is kept and given to its group: 5 on
# both, byte 6 = 5 << 3 = 0x28 (a non-zero id, unlike the default 0).
l2 "$WRAP" -device "$(dev "$A" gpu0 4 ',"x-nv-gpudirect-clique":5')" -device "$(dev "$B" gpu1 5)"
diag "wrapper: $(grep '^qemu-p2p:' "$T/log")"
capA=$(p2p_cap "$T/cfg4") capB=$(p2p_cap "$T/cfg5")
diag "slot 4: ${capA:-none}" "slot 5: ${capB:-none}"
check "an id set on one GPU: its group partner gets it too (5 on both, byte 6 = 0x28)" \
	sh -c "[ \"\$(echo '$capA' | cut -d' ' -f2,9)\" = '5 28' ] && [ \"\$(echo '$capB' | cut -d' ' -f2,9)\" = '5 28' ]"

# 2. Different groups: neither gets one.
conf "0 = $A
1 = $B"
l2 "$WRAP" -device "$(dev "$A" gpu0 4)" -device "$(dev "$B" gpu1 5)"
diag "wrapper: $(grep '^qemu-p2p:' "$T/log")"
check "two groups: no P2P capability on either device" sh -c "[ -z '$(p2p_cap "$T/cfg4")' ] && [ -z '$(p2p_cap "$T/cfg5")' ] && [ -s '$T/cfg4' ]"

# 3. The guard: the device with a capability at 0xC8, QEMU 7.2.
conf "0 = $A $C"
l2 "$WRAP" -device "$(dev "$A" gpu0 4)" -device "$(dev "$C" gpu1 5)"
guard=$(grep '^qemu-p2p:' "$T/log")
diag "wrapper: $guard"
check "guard: the wrapper passes the VM through and says why" grep -q "would refuse it: a capability covers 0xC8" <<< "$guard"
check "guard: L2 starts (config space answered)" test -s "$T/cfg5"
check "guard: no P2P capability on either device" sh -c "[ -z '$(p2p_cap "$T/cfg4")' ] && [ -z '$(p2p_cap "$T/cfg5")' ]"
l2 "$QEMU" -device "$(dev "$A" gpu0 4 ',"x-nv-gpudirect-clique":0')" -device "$(dev "$C" gpu1 5 ',"x-nv-gpudirect-clique":0')"
diag "the same devices with the property by hand, QEMU's answer: $(head -n 2 "$T/log" | tr '\n' ' ')"
check "guard: by hand, QEMU refuses to start with the overlap error" grep -q "overlaps existing capability" "$T/log"
# 4. The same start confined by AppArmor, as libvirt confines a VM.
. "$src/tests/lab/apparmor.sh"

# 5. A Linux guest (L2) on the two devices of one group, started through
# the wrapper with an id set by hand on one (5): qemu-p2p-guest inside L2
# reads the capability QEMU put in each device's config space.
conf "0 = $A $B"
start=$(date +%s)
timeout 900 "$WRAP" -machine q35 -accel tcg -m 256 -nodefaults -display none -no-reboot -serial stdio \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet lab.script=$src/tests/lab/guest.sh lab.args=$build" \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	-device "$(dev "$A" gpu0 4 ',"x-nv-gpudirect-clique":5')" -device "$(dev "$B" gpu1 5)" \
	< /dev/null > "$T/l2" 2>&1
rc=$?
diag "L2 (a Linux guest on TCG inside L1 on TCG): $(($(date +%s) - start)) s, exit $rc" \
	"wrapper: $(grep -a '^qemu-p2p:' "$T/l2")"
sed -n '/lab-guest: begin/,/lab-guest: end/p' "$T/l2" | tr -d '\r' | grep -v '^lab-guest' > "$T/cliques.json"
diag "$(cat "$T/cliques.json")"
check "L2: qemu-p2p-guest cliques sees both devices with id 5, the id the wrapper gave (JSON)" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(sorted(g["clique"] for g in d["gpus"]) != [5, 5])' "$T/cliques.json"
echo "1..$n"

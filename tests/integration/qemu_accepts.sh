#!/bin/bash
# Real QEMU acceptance: every -device argument the wrapper rewrites, given to
# Debian's qemu-system-x86_64, fails only with "no such host device" (the
# GPUs are absent from this machine, checked first). Inputs: argv real
# libvirt generated (JSON and legacy), hand-written spellings, Proxmox-style
# `qm showcmd` lines. A negative control proves the check can fail.
. "$(dirname "$0")/tap.sh"
QEMU=/usr/bin/qemu-system-x86_64
host c8-free-gpus "$TMP/sys"
export QEMU_P2P_SYSFS=$TMP/sys QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf
config "$TMP/etc" "[qemu]
binary = $QEMU
[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0
1 = 0000:47:00.0 0000:48:00.0"

for a in 0000:43:00.0 0000:43:00.1 0000:44:00.0 0000:47:00.0 0000:48:00.0; do
	[ -e "/sys/bus/pci/devices/$a" ] && { echo "Bail out! $a exists on this machine"; exit 1; }
done
ok "the fixture's GPU addresses are absent from this machine's /sys"

"$CLI" refresh > "$TMP/refresh.out" 2>&1
c8=$(sed -n '/^c8_free =/,/^$/p' "$TMP/etc/qemu-p2p.d/host.conf" | tr -s ' \n' '\n' | grep /)
check "refresh with the real QEMU 7.2 lists the four GPUs in c8_free, each with its card id" \
	sh -c "printf '%s\n' '$c8' | grep -cE '^0000:(43|44|47|48):00\.0/10de:[0-9a-f]{4}:[0-9a-f]{4}:[0-9a-f]{4}:[0-9a-f]{8}\$' | grep -qx 4"

# accepts DEVICE [CONTEXT...]: QEMU's only complaint is the missing host device.
accepts() {
	local dev=$1 err
	shift
	err=$(timeout 30 "$QEMU" -machine q35,accel=tcg -nodefaults -display none -S "$@" -device "$dev" 2>&1 < /dev/null)
	if grep -q "no such host device" <<< "$err" && [ "$(grep -c . <<< "$err")" -eq 1 ]; then
		return 0
	fi
	diag "QEMU said: $err"
	return 1
}

# run_case NAME ARGVFILE: rewrites the argv in the file (one argument a
# line), then feeds QEMU each rewritten vfio device with the file's other
# devices (root ports) as context.
run_case() {
	local name=$1 file=$2 ctx=() i n=0
	mapfile -t in < "$file"
	mapfile -t out < <("$CLI" rewrite -- "${in[@]}")
	for ((i = 1; i < ${#out[@]}; i++)); do
		if [ "${out[i - 1]}" = -device ] && ! grep -q vfio-pci <<< "${out[i]}"; then
			ctx+=(-device "${out[i]}")
		fi
	done
	for ((i = 0; i < ${#out[@]}; i++)); do
		grep -q x-nv-gpudirect-clique <<< "${out[i]}" || continue
		n=$((n + 1))
		check "$name: QEMU accepts ${out[i]}" accepts "${out[i]}" "${ctx[@]}"
	done
	check "$name: cliques were added ($n)" [ "$n" -gt 0 ]
}

sh "$QP2P_SRC/tools/libvirt-argv.sh" "$QP2P_SRC/tests/fixtures/gpu4-domain.xml" "$TMP/lv-json" > "$TMP/json.argv"
run_case "libvirt JSON" "$TMP/json.argv"
sh "$QP2P_SRC/tools/libvirt-argv.sh" "$QP2P_SRC/tests/fixtures/gpu4-domain.xml" "$TMP/lv-legacy" legacy > "$TMP/legacy.argv"
run_case "libvirt legacy" "$TMP/legacy.argv"

cat > "$TMP/hand.argv" <<'ARGS'
qemu-system-x86_64
-device
{ "driver" : "vfio-pci" , "host" : "43:00.0" , "id" : "spaced" }
-device
vfio-pci-nohotplug,host=0:44:00.0,id=nohotplug,romfile=/no,,such
-device
vfio-pci,host=0x47:0.0,id=short,x-pci-vendor-id=0x10de
-device
{"driver":"vfio-pci","host":"0000:48:00.0","id":"operator","x-nv-gpudirect-clique":9}
ARGS
run_case "hand-written" "$TMP/hand.argv"
mapfile -t out < <("$CLI" rewrite -- "$(sed -n 1p "$TMP/hand.argv")" -device "$(sed -n 7p "$TMP/hand.argv")" -device "$(sed -n 9p "$TMP/hand.argv")")
check "an operator's id is joined by its group" grep -q 'x-pci-vendor-id=0x10de,x-nv-gpudirect-clique=9' <<< "${out[2]}"

# Proxmox: `qm showcmd` for hostpci0 (multifunction GPU + audio, x-vga) and
# hostpci1, with its own root ports.
cat > "$TMP/pve.argv" <<'ARGS'
/usr/bin/kvm
-id
100
-name
gpu-vm,debug-threads=on
-device
pcie-root-port,id=ich9-pcie-port-1,addr=10.0,x-speed=16,x-width=32,multifunction=on,bus=pcie.0,port=1,chassis=1
-device
pcie-root-port,id=ich9-pcie-port-2,addr=10.1,x-speed=16,x-width=32,multifunction=on,bus=pcie.0,port=2,chassis=2
-device
vfio-pci,host=0000:43:00.0,id=hostpci0.0,bus=ich9-pcie-port-1,addr=0x0.0,multifunction=on,x-vga=on
-device
vfio-pci,host=0000:43:00.1,id=hostpci0.1,bus=ich9-pcie-port-1,addr=0x0.1
-device
vfio-pci,host=0000:44:00.0,id=hostpci1,bus=ich9-pcie-port-2,addr=0x0,x-pci-vendor-id=0x10de,x-pci-device-id=0x2204
ARGS
run_case "Proxmox" "$TMP/pve.argv"

# Negative control: the published script's splice, after the closing brace.
BLOG='{"driver":"vfio-pci","host":"0000:43:00.0"},"x-nv-gpudirect-clique":0}'
if accepts "$BLOG" > "$TMP/control" 2>&1; then
	not_ok "control: QEMU rejects the blog script's JSON"
else
	check "control: QEMU rejects the blog script's JSON: Expecting at most one JSON value" \
		contains "$TMP/control" "Expecting at most one JSON value"
fi
done_testing

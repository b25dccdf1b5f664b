#!/bin/bash
# qemu-p2p doctor and vms on fixture trees and fake /proc entries: every
# check in each of its states, the exit status, the JSON.
. "$(dirname "$0")/tap.sh"
export QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf QEMU_P2P_PATH=$TMP/bin
mkdir -p "$TMP/bin" "$TMP/proc"
cp "$WRAP" "$TMP/bin/qemu-system-x86_64"
printf '#!/bin/sh\necho "QEMU emulator version 8.2.2"\n' > "$TMP/q82"
printf '#!/bin/sh\necho "QEMU emulator version 7.2.0"\n' > "$TMP/q72"
chmod 755 "$TMP/q82" "$TMP/q72"
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' > "$TMP/proc/cpuinfo"
printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt\n' > "$TMP/proc/cmdline"

# facts VERSION QEMU: operator file (with extra text) and current host facts.
conf() {
	config "$TMP/etc" "[qemu]
binary = $2
$3"
	printf '[qemu]\nbinary = %s\nversion = %s\nidentity = %s\n' "$2" "$1" "$(stat -c '%d:%i:%s:%Y' "$2")" \
		> "$TMP/etc/qemu-p2p.d/host.conf"
}
# vm PID ARGS...: a fake QEMU process.
vm() { local pid=$1; shift; mkdir -p "$TMP/proc/$pid"; printf '%s\0' "$@" > "$TMP/proc/$pid/cmdline"; }
doctor() { "$CLI" doctor --sysfs "$1" --proc "$TMP/proc" "${@:2}" > "$TMP/out" 2>&1; echo $? > "$TMP/rc"; }
has() { contains "$TMP/out" "$1"; }
rc_is() { [ "$(cat "$TMP/rc")" = "$1" ]; }

# A healthy host: exit 0 (INFO does not count).
host c8-free-gpus "$TMP/good"
conf 8.2.2 "$TMP/q82" "[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0
1 = 0000:47:00.0 0000:48:00.0"
doctor "$TMP/good"
check "healthy host: exit 0" rc_is 0
check "healthy: IOMMU on" has "PASS  iommu       IOMMU on: 4 IOMMU groups"
check "healthy: wrapper found first on PATH" has "PASS  wrapper     $TMP/bin/qemu-system-x86_64 is qemu-p2p-wrap"
check "healthy: QEMU 8.2 places the capability" has "is QEMU 8.2: it places the clique capability itself"
check "healthy: level and CPU vendor" has "INFO  level       CPU GenuineIntel; plan's auto level is NODE"
check "healthy: map addresses are GPUs" has "PASS  map         every [map] address is a GPU of this host"
chmod 640 "$TMP/etc/qemu-p2p.conf"; doctor "$TMP/good"; chmod 644 "$TMP/etc/qemu-p2p.conf"
check "a configuration the VMs cannot read: WARN" has "WARN  config      $TMP/etc/qemu-p2p.conf is not readable by the VMs (qemu user)"
"$CLI" doctor --sysfs "$TMP/good" --proc "$TMP/proc" --json > "$TMP/j"
check "--json: version first, status, checks, the wrapper's verdict" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert list(d)[0]=="version"
v=d["verdict"]; assert v["config"]=="valid" and v["grouping"]["groups"]==[["0000:43:00.0","0000:44:00.0"],["0000:47:00.0","0000:48:00.0"]] and v["adds_cliques"]
sys.exit(not (d["status"]=="INFO" and all({"name","status","evidence","action","gpus"} <= set(c) for c in d["checks"])))' "$TMP/j"
check "one line for the GPUs bound to vfio-pci (folded)" has "PASS  vfio        0000:43:00.0, 0000:44:00.0, 0000:47:00.0, 0000:48:00.0: bound to vfio-pci"
doctor "$TMP/good" --verbose
check "--verbose: one line per GPU" sh -c "[ \$(grep -c '^PASS  vfio' '$TMP/out') = 4 ]"

# Failures and warnings, one fixture each.
python3 "$MKHOST" /dev/stdin "$TMP/bad" <<'H'
root 0000:00 vendor=8086 numa=0
dev 0000:00:01.0/0000:01:00.0/0000:02:00.0 class=060400 vendor=10b5 device=8747 ext=100:0d:0004
dev 0000:00:01.0/0000:01:00.0/0000:02:00.0/0000:03:00.0 class=030200 vendor=10de device=2330 driver=vfio-pci iommu=7 caps=60:01,68:05,78:10,c8:11 bar1=256
dev 0000:00:01.0/0000:01:00.0/0000:02:01.0/0000:04:00.0 class=030200 vendor=10de device=2330 driver=nvidia caps=60:01,68:10,b0:11
dev 0000:00:01.0/0000:01:00.0/0000:02:02.0/0000:05:00.0 class=020000 vendor=8086 device=1572 driver=ixgbe iommu=7
H
rm "$TMP/bin/qemu-system-x86_64"
conf 7.2.0 "$TMP/q72" "[cliques]
mode = map
flavour = strawberry
[map]
0 = 0000:03:00.0 0000:04:00.0 0000:09:00.0"
printf 'BOOT_IMAGE=/vmlinuz root=/dev/sda1\n' > "$TMP/proc/cmdline"
vm 4242 /usr/bin/qemu-system-x86_64 -name guest=vm1 -device '{"driver":"vfio-pci","host":"0000:04:00.0","id":"hostdev0"}'
doctor "$TMP/bad"
check "failing host: exit 2" rc_is 2
check "QEMU 7.2 and MSI-X at 0xC8: FAIL" has "FAIL  qemu-caps   0000:03:00.0: a capability covers 0xC8, where QEMU 7.2 puts the clique capability"
check "QEMU 7.2 and 0xC8 free: PASS" has "PASS  qemu-caps   0000:04:00.0: 0xC8 is free for QEMU 7.2"
check "a GPU of a running VM not on vfio-pci: FAIL" has "FAIL  vfio        0000:04:00.0: passed to a running VM but bound to nvidia"
check "another device in a GPU's IOMMU group: WARN" has "WARN  iommu-group 0000:03:00.0: IOMMU group 7 also holds 0000:05:00.0 (ixgbe)"
check "ACS P2P request redirect between grouped GPUs: WARN" has "WARN  acs         ACS P2P redirect or egress control between GPUs of a group: 0000:02:00.0 ctrl bits 0x04"
check "ACS: the setpci command" has "setpci -s ADDRESS ECAP_ACS+6.w=0000:002c"
check "BAR1 of 256 MiB: WARN" has "WARN  bar1        0000:03:00.0: BAR1 is 256 MiB, which looks capped"
check "no BAR1: INFO" has "INFO  bar1        0000:04:00.0: BAR1 unassigned or unreadable"
check "wrapper not installed: WARN" has "WARN  wrapper     libvirt finds no qemu-system-x86_64, which is not the wrapper"
check "unknown key: WARN" has "unknown key 'flavour' in [cliques], ignored"
check "a stale map entry: WARN" has "names no GPU at 0000:09:00.0 on this host"
check "IOMMU groups present even with cmdline lacking intel_iommu" has "PASS  iommu"

python3 "$MKHOST" /dev/stdin "$TMP/noiommu" <<'H'
root 0000:00 vendor=8086 numa=0
dev 0000:00:01.0/0000:01:00.0 class=030200 vendor=10de device=2330 bar1=32768
H
printf '[cliques]\nmode = sometimes\n' > "$TMP/etc/qemu-p2p.conf"
doctor "$TMP/noiommu" --qemu "$TMP/q82"
check "no IOMMU groups on Intel without intel_iommu=on: FAIL with the fix" has "add intel_iommu=on iommu=pt to the kernel command line"
check "an invalid configuration: FAIL" has "FAIL  config"
check "facts stale: WARN" has "WARN  facts       host facts missing or stale for $TMP/q82"
check "a GPU not bound and in no VM: INFO (libvirt binds it)" has "INFO  vfio        0000:01:00.0: bound to no driver"
printf 'vendor_id\t: AuthenticAMD\n' > "$TMP/proc/cpuinfo"
doctor "$TMP/noiommu" --qemu "$TMP/q82"
check "no IOMMU groups on AMD: says to enable AMD-Vi" has "enable IOMMU (AMD-Vi) in firmware"
python3 "$MKHOST" /dev/stdin "$TMP/empty" <<'H'
root 0000:00 vendor=8086 numa=0
H
doctor "$TMP/empty" --qemu "$TMP/q82"
check "no NVIDIA GPU: WARN" has "WARN  gpus        no NVIDIA GPU"
conf 7.2.0 "$TMP/q72" "[cliques]
mode = map
[map]
0 = 0000:03:00.0 0000:04:00.0"
setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" doctor --sysfs "$TMP/bad" --proc "$TMP/proc" > "$TMP/out" 2>&1
chmod -R go+rX "$TMP"
setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" doctor --sysfs "$TMP/bad" --proc "$TMP/proc" --qemu "$TMP/q72" > "$TMP/out" 2>&1
check "unprivileged: ACS not checked, says root is needed" has "INFO  acs         not checked: ACS lives in extended config space, root only"

# vms
rm -rf "$TMP/proc"/[0-9]*
conf 8.2.2 "$TMP/q82" "[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0"
vm 100 /usr/bin/qemu-system-x86_64 -name guest=good -device '{"driver":"vfio-pci","host":"0000:43:00.0","id":"hostdev0","x-nv-gpudirect-clique":0}' -device 'vfio-pci,host=0000:44:00.0,id=hostdev1,x-nv-gpudirect-clique=0'
vm 200 /usr/bin/sleep 100
"$CLI" vms --sysfs "$TMP/good" --proc "$TMP/proc" > "$TMP/out"; echo $? > "$TMP/rc"
check "vms: one QEMU process, not sleep" sh -c "[ \$(grep -c '^pid' '$TMP/out') = 1 ]"
check "vms: each GPU's address and clique" has "hostdev1       0000:44:00.0  clique 0"
check "vms: no warning: exit 0" rc_is 0
vm 300 /usr/bin/qemu-system-x86_64 -name guest=split -cpu host,kvm=off -device '{"driver":"vfio-pci","host":"0000:43:00.0","id":"a","x-nv-gpudirect-clique":0}' -device '{"driver":"vfio-pci","host":"0000:44:00.0","id":"b","x-nv-gpudirect-clique":1}'
vm 400 /usr/bin/qemu-system-x86_64 -name guest=none -device '{"driver":"vfio-pci","host":"0000:43:00.0","id":"a"}' -device '{"driver":"vfio-pci","host":"0000:44:00.0","id":"b","x-nv-gpudirect-clique":0}'
"$CLI" vms --sysfs "$TMP/good" --proc "$TMP/proc" --json > "$TMP/out"; echo $? > "$TMP/rc"
check "vms: kvm=off, split and missing cliques: exit 1" rc_is 1
check "vms --json: kvm=off, several ids, no clique: warnings as objects" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); v={x["name"]: x for x in d["vms"]}
assert d["version"]==1 and v["good"]["warnings"]==[] and v["good"]["gpus"][1]["clique"]==0 and v["good"]["gpus"][1]["group"]==0
k={w["kind"]: w for w in v["split"]["warnings"]}
assert v["split"]["kvm_hidden"] and set(k)=={"kvm_hidden","several_ids"}, k
assert "kvm=off" in k["kvm_hidden"]["text"] and "virsh destroy split && virsh start split" in k["kvm_hidden"]["fix"]
assert k["several_ids"]["gpus"]==["0000:43:00.0","0000:44:00.0"] and "0000:43:00.0 clique 0, 0000:44:00.0 clique 1" in k["several_ids"]["text"]
assert all(set(w)=={"vm","kind","gpus","text","fix"} and w["vm"]=="split" for w in v["split"]["warnings"])
n=v["none"]["warnings"]
sys.exit(not (len(n)==1 and n[0]["kind"]=="no_clique" and n[0]["gpus"]==["0000:43:00.0"] and v["none"]["gpus"][0]["clique"] is None))' "$TMP/out"

# A Proxmox VM in /proc, its argv from Proxmox's own test output (`qm
# showcmd`: /usr/bin/kvm, -id 8006, -daemonize): started without the
# wrapper, then through it.
rm -rf "$TMP/proc"/[0-9]*
python3 "$MKHOST" /dev/stdin "$TMP/pve" <<'H'
root 0000:00 vendor=8086 numa=0
dev 0000:00:03.0/0000:d0:13.0 class=030200 vendor=10de device=2330 driver=vfio-pci iommu=1
dev 0000:00:03.0/0000:d0:15.1 class=040300 vendor=10de device=22e8 driver=vfio-pci iommu=2
dev 0000:00:03.0/0000:d0:15.2 class=030200 vendor=10de device=2330 driver=vfio-pci iommu=3
dev 0000:00:03.0/0000:d0:17.0 class=030200 vendor=10de device=2330 driver=vfio-pci iommu=4
H
conf 8.2.2 "$TMP/q82" "[cliques]
mode = map
[map]
0 = 0000:d0:13.0 0000:d0:15.2 0000:d0:17.0"
PVE_ARGV=$QP2P_SRC/tests/fixtures/thirdparty/proxmox/q35-linux-hostpci.conf.cmd
mapfile -t pve < <(python3 -c 'import shlex,sys; print("\n".join(shlex.split(open(sys.argv[1]).read().replace("\\\n", " "))))' "$PVE_ARGV")
vm 8100 "${pve[@]}"
"$CLI" vms --sysfs "$TMP/pve" --proc "$TMP/proc" > "$TMP/out"; echo $? > "$TMP/rc"
check "vms: a Proxmox VM shows its VMID" has "pid 8100  vm8006 (Proxmox VM 8006)"
check "vms: its GPUs without cliques (started without the wrapper): one warning, exit 1" \
	sh -c "grep -q 'WARN no_clique: group 0: 0000:d0:13.0, 0000:d0:17.0, 0000:d0:15.2: no clique' '$TMP/out' && [ \$(cat '$TMP/rc') = 1 ]"
check "vms: the fix is Proxmox's, with the VMID" has "-> qm stop 8006 && qm start 8006"
doctor "$TMP/pve" --qemu "$TMP/q82"
check "doctor: audits the Proxmox VM, one line" has "WARN  vms         pid 8100 vm8006 (Proxmox VM 8006): no_clique: group 0: 0000:d0:13.0, 0000:d0:17.0, 0000:d0:15.2: no clique"
mapfile -d '' -t rewritten < <(QEMU_P2P_SYSFS=$TMP/pve "$CLI" rewrite -0 --qemu "$TMP/q82" -- "${pve[@]}")
rm -rf "$TMP/proc/8100"
vm 8101 "${rewritten[@]}"
"$CLI" vms --sysfs "$TMP/pve" --proc "$TMP/proc" --json > "$TMP/out"; echo $? > "$TMP/rc"
check "vms --json: the same VM started through the wrapper: clique 0 on its three GPUs, no warning" python3 -c '
import json,sys; v=json.load(open(sys.argv[1]))["vms"][0]
c={g["address"]: g["clique"] for g in v["gpus"]}
sys.exit(not (v["proxmox_vmid"]==8006 and v["warnings"]==[] and [c["0000:d0:13.0"], c["0000:d0:15.2"], c["0000:d0:17.0"]]==[0,0,0] and c["0000:d0:15.1"] is None))' "$TMP/out"
doctor "$TMP/pve" --qemu "$TMP/q82"
check "doctor: the VM started through the wrapper needs nothing" has "INFO  vms         1 running VM with vfio-pci devices"
check "doctor: and no vms warning" sh -c "! grep -q 'WARN  vms' '$TMP/out'"

"$CLI" vms --sysfs "$TMP/good" --proc "$TMP/proc" --qmp --json > "$TMP/out" 2>&1
check "vms --qmp on VMs libvirt does not know: says why, per VM" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["vms"] and all(v["qmp"] is None and v["qmp_error"] for v in d["vms"])))' "$TMP/out"
done_testing

#!/bin/bash
# No command says all is well where a VM will get no P2P: each example of
# the one-verdict issue on the example host (make demo's tree), as an
# operator meets it. (agreement.py checks every command against the real
# wrapper; this file checks what each command says.)
. "$(dirname "$0")/tap.sh"
host blog-8gpu "$TMP/sys"
mkdir -p "$TMP/etc/qemu-p2p.d" "$TMP/proc"
C=$TMP/etc/qemu-p2p.conf
export QEMU_P2P_SYSFS=$TMP/sys
printf '#!/bin/sh\necho "QEMU emulator version 8.2.2"\n' > "$TMP/q82"
chmod 755 "$TMP/q82"
conf() { printf '[qemu]\nbinary = %s\n%b' "$TMP/q82" "$1" > "$C"; chmod 644 "$C"; }
conf ''
"$CLI" refresh -c "$C" > /dev/null
run() { "$CLI" "$@" > "$TMP/out" 2> "$TMP/err"; echo $? > "$TMP/rc"; }
out() { contains "$TMP/out" "$1"; }
err() { contains "$TMP/err" "$1"; }
rc_is() { [ "$(cat "$TMP/rc")" = "$1" ] || { diag "exit $(cat "$TMP/rc"), not $1"; return 1; }; }

# A configuration the wrapper rejects: plan refuses and names it.
conf '[cliques]\nlevel = SYSS\n'
run plan -c "$C"
check "level = SYSS: plan refuses, exit 1" rc_is 1
check "level = SYSS: plan names file:line and what to use" \
	err "qemu-p2p plan: configuration rejected: $C:4: level = SYSS: use PIX, PXB, PHB, NODE, SYS or auto"
check "level = SYSS: plan prints no plan" [ ! -s "$TMP/out" ]
conf '[cliques]\nmode = mpa\nlevel = SYS\n'
run plan -c "$C" --json
check "mode = mpa: plan --json prints the error object, exit 1" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (list(d)[0]=="version" and "mode = mpa" in d["error"]))' "$TMP/out"
run refresh -c "$C"
check "mode = mpa: refresh refuses to write, exit 1" sh -c "[ \$(cat '$TMP/rc') = 1 ] && grep -q 'configuration rejected' '$TMP/err'"
run status -c "$C"
check "rejected: status says so" out "config:      rejected: $C:4: mode = mpa: use auto, map or off"
check "rejected: status exits 1" rc_is 1
run doctor -c "$C" --proc "$TMP/proc"
check "rejected: doctor FAILs with the line to fix" out "FAIL  config      rejected: $C:4: mode = mpa"
check "rejected: doctor exit 2" rc_is 2

# A file named with -c that does not exist; directories never created.
run doctor -c /nonexistent/qemu-p2p.conf --proc "$TMP/proc"
check "doctor -c of a missing file: an error, not PASS" sh -c "! grep -q PASS '$TMP/out' && [ \$(cat '$TMP/rc') = 2 ]"
check "doctor -c of a missing file: named" err "qemu-p2p doctor: /nonexistent/qemu-p2p.conf: no such file (given with --config)"
run plan --write -c /nonexistent/x.conf
run refresh -c /nonexistent/x.conf
check "plan --write and refresh with -c /nonexistent/x.conf create nothing" [ ! -e /nonexistent ]
conf '[cliques]\nmode = auto\n'
mkdir "$TMP/nodir" && cp "$C" "$TMP/nodir/qemu-p2p.conf"
run refresh -c "$TMP/nodir/qemu-p2p.conf"
check "refresh: a missing qemu-p2p.d is named, not created" \
	sh -c "[ \$(cat '$TMP/rc') = 1 ] && [ ! -e '$TMP/nodir/qemu-p2p.d' ] && grep -q 'nodir/qemu-p2p.d: no such directory' '$TMP/err'"

# A [qemu] binary typo: doctor and status name the QEMU that really runs.
printf '[qemu]\nbinary = /usr/bin/qemu-system-x86_64x\n' > "$C"
run doctor -c "$C" --proc "$TMP/proc"
check "binary typo: doctor FAILs, naming it and what runs instead" \
	out "FAIL  qemu        [qemu] binary /usr/bin/qemu-system-x86_64x is not an executable file (or is the wrapper): the wrapper runs /usr/bin/qemu-system-x86_64 instead"
run status -c "$C"
check "binary typo: status shows it" out "NOT the [qemu] binary /usr/bin/qemu-system-x86_64x"
check "binary typo: status exits 1" rc_is 1
"$CLI" refresh --help > "$TMP/out"
check "refresh --help says --qemu sets the binary every VM runs" out "written as [qemu] binary: the wrapper then execs it"

# A partial nvidia-smi output: the GPUs it leaves out are named.
printf ' \tGPU0\tGPU1\tGPU2\n GPU0\tX\tOK\tOK\n GPU1\tOK\tX\tOK\n GPU2\tOK\tOK\tX\n\nindex, pci.bus_id\n0, 00000000:05:00.0\n1, 00000000:06:00.0\n2, 00000000:76:00.0\n' > "$TMP/three.txt"
conf ''
run plan -c "$C" --from-nvidia-smi "$TMP/three.txt" --write
check "3 of 8 GPUs: --write refuses, exit 1" rc_is 1
check "3 of 8 GPUs: the 5 others are named" \
	out "In no group (their VMs get no clique): 0000:77:00.0 0000:85:00.0 0000:86:00.0 0000:f4:00.0 0000:f5:00.0"
check "3 of 8 GPUs: says what to do" err "give --partial"
check "3 of 8 GPUs: the host file is not written" sh -c "! grep -q '^\[map\]' '$TMP/etc/qemu-p2p.d/host.conf'"
run plan -c "$C" --from-nvidia-smi "$TMP/three.txt" --write --partial
check "--partial writes it" out "wrote $TMP/etc/qemu-p2p.d/host.conf"
run doctor -c "$C" --proc "$TMP/proc"
check "doctor then WARNs for the 5: their VMs get no clique" \
	out "WARN  groups      5 GPUs in no group, so their VMs get no clique: 0000:77:00.0, 0000:85:00.0, 0000:86:00.0, 0000:f4:00.0, 0000:f5:00.0"
sed 's/^2, .*/2, 00000000:99:00.0/' "$TMP/three.txt" > "$TMP/foreign.txt"
run plan -c "$C" --from-nvidia-smi "$TMP/foreign.txt" --json
check "plan --json: GPUs of the file not on this host, GPUs in no group" python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
sys.exit(not (d["not_on_host"]==["0000:99:00.0"] and len(d["ungrouped"])==6 and d["in_effect"] is False))' "$TMP/out"

# Running VMs, judged once each, with the fix for their generator.
conf '[cliques]\nmode = auto\nlevel = PHB\n'
vm() { local pid=$1; shift; mkdir -p "$TMP/proc/$pid"; printf '%s\0' "$@" > "$TMP/proc/$pid/cmdline"; }
dev() { printf '{"driver":"vfio-pci","host":"%s","id":"hostdev%s"%s}' "$1" "$2" "${3:+,\"x-nv-gpudirect-clique\":$3}"; }
vm 10 /usr/bin/qemu-system-x86_64 -name guest=instance-0000002a,debug-threads=on \
	-smbios 'type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,version=27.0.0' \
	-device "$(dev 0000:05:00.0 0 0)" -device "$(dev 0000:06:00.0 1 0)" \
	-device "$(dev 0000:85:00.0 2 1)" -device "$(dev 0000:86:00.0 3 1)"
run vms -c "$C" --proc "$TMP/proc"
check "a Nova VM across two groups: split, named with its groups" \
	out "WARN split: GPUs from 2 groups: group 0 (0000:05:00.0, 0000:06:00.0), group 2 (0000:85:00.0, 0000:86:00.0): P2P only within each group"
check "split: the fix is Nova's (one alias per group)" out "-> one PCI alias per group: qemu-p2p plan --for nova"
check "split: exit 1" rc_is 1
rm -r "$TMP/proc/10"
conf '[cliques]\nmode = auto\nlevel = SYS\n'
args=()
for k in 0 1 2 3 4 5 6 7; do
	a=$(sed -n "$((k + 1))p" <<< $'0000:05:00.0\n0000:06:00.0\n0000:76:00.0\n0000:77:00.0\n0000:85:00.0\n0000:86:00.0\n0000:f4:00.0\n0000:f5:00.0')
	args+=(-device "$(dev "$a" "$k" $((k / 4)))")
done
vm 11 /usr/bin/qemu-system-x86_64 -name guest=big "${args[@]}"
run vms -c "$C" --proc "$TMP/proc" --json
check "8 GPUs of one group with cliques 0 and 1: one warning, one object" python3 -c '
import json,sys; w=json.load(open(sys.argv[1]))["vms"][0]["warnings"]
sys.exit(not (len(w)==1 and w[0]["kind"]=="several_ids" and len(w[0]["gpus"])==8 and len(w[0]["text"]) < 400))' "$TMP/out"
rm -r "$TMP/proc/11"
vm 12 /usr/bin/qemu-system-x86_64 -name guest=plain -device "$(dev 0000:05:00.0 0)" -device "$(dev 0000:06:00.0 1)"
run vms -c "$C" --proc "$TMP/proc"
check "neither GPU has a clique: no_clique names both" out "WARN no_clique: group 0: 0000:05:00.0, 0000:06:00.0: no clique"
rm -r "$TMP/proc/12"
vm 13 /usr/bin/kvm -id 101 -name vm101 -cpu host,kvm=off -device "vfio-pci,host=0000:05:00.0,id=hostpci0" \
	-device "vfio-pci,host=0000:06:00.0,id=hostpci1"
run doctor -c "$C" --proc "$TMP/proc"
check "kvm=off on Proxmox: doctor says KVM is hidden" out "kvm_hidden: KVM is hidden from the guest (-cpu ...,kvm=off): the NVIDIA driver ignores cliques"
check "kvm=off on Proxmox: the fix is Proxmox's hidden=1, then restart" \
	out "drop hidden=1 from the VM's cpu: line (with x-vga=1, write hidden=0), then qm stop 101 && qm start 101"
rm -r "$TMP/proc/13"

# status: valid with warnings is not "valid" alone.
conf '[cliques]\nflavour = strawberry\n'
run status -c "$C"
check "status: valid, with warnings, and each warning" \
	sh -c "grep -q 'valid, with warnings:' '$TMP/out' && grep -q \"unknown key 'flavour' in \[cliques\]\" '$TMP/out'"
conf '[clique]\nmode = map\n'
run status -c "$C"
check "a mistyped section: named as a section, with the nearest" out "unknown section [clique], ignored with its keys; did you mean [cliques]?"

# refresh names what keeps hotplug = global off.
conf '[cliques]\nmode = auto\nlevel = PHB\n'
run refresh -c "$C"
check "refresh: hotplug = global off, and why" out "hotplug = global: not possible: the GPUs form 4 groups (qemu-p2p plan)"
done_testing

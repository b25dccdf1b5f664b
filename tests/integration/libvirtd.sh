#!/bin/bash
# End to end with a real libvirtd: qemu-p2p install for real, a small TCG
# domain defined and started through the wrapper, the wrapper's line in the
# domain's log, domcapabilities through it; then uninstall keeps the domain
# defined meanwhile startable and new domains get the packaged path.
# Needs root and a disposable machine (CI is one); skips otherwise.
. "$(dirname "$0")/tap.sh"
W=/usr/local/bin/qemu-system-x86_64
if [ "$(id -u)" != 0 ] || [ -e "$W" ] || [ -e /etc/qemu-p2p.d ] || ! command -v libvirtd > /dev/null; then
	skip "libvirtd end to end" "needs root, libvirtd, and no earlier $W or /etc/qemu-p2p.d"
	done_testing; exit 0
fi
STARTED=""
cleanup() {
	for d in qp2p-during qp2p-after; do virsh -q destroy $d > /dev/null 2>&1; virsh -q undefine $d > /dev/null 2>&1; done
	"$CLI" uninstall --purge > /dev/null 2>&1
	for p in $STARTED; do kill "$p" 2> /dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
start_daemon() { # start_daemon NAME PIDFILE SOCKET
	if [ -S "$3" ] && [ -f "$2" ] && kill -0 "$(cat "$2")" 2> /dev/null; then return; fi
	"$1" -d
	for _ in $(seq 50); do [ -S "$3" ] && break; sleep 0.2; done
	STARTED="$STARTED $(cat "$2")"
}
start_daemon virtlogd /run/virtlogd.pid /run/libvirt/virtlogd-sock
start_daemon libvirtd /run/libvirtd.pid /run/libvirt/libvirt-sock
export LIBVIRT_DEFAULT_URI=qemu:///system

domain() { # domain NAME: a TCG domain without disks or GPUs
	cat > "$TMP/$1.xml" <<X
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><serial type='pty'/><memballoon model='none'/></devices>
</domain>
X
	virsh -q define "$TMP/$1.xml" > /dev/null
}
running() { [ "$(virsh -q domstate "$1")" = running ]; }

"$CLI" status > "$TMP/status.before"
diag "status before install:" "$(cat "$TMP/status.before")"
"$CLI" install --wrapper "$WRAP" > "$TMP/install.out" 2>&1
check "install for real: exit 0" [ $? -eq 0 ]
check "install's self-test reached the real QEMU through the wrapper" contains "$TMP/install.out" "self-test: $W -version reached QEMU emulator version"
check "install ran refresh: host facts written" [ -f /etc/qemu-p2p.d/host.conf ]
"$CLI" status > "$TMP/status.after"
diag "status after install:" "$(cat "$TMP/status.after")"
domain qp2p-during
check "a domain defined now gets the wrapper's path" sh -c "virsh dumpxml qp2p-during | grep -q '<emulator>$W</emulator>'"
virsh -q start qp2p-during > "$TMP/start.out" 2>&1
check "the domain starts through the wrapper" running qp2p-during
check "the domain's log has the wrapper's line" grep -q '^qemu-p2p: ' /var/log/libvirt/qemu/qp2p-during.log
diag "$(grep '^qemu-p2p: ' /var/log/libvirt/qemu/qp2p-during.log | tail -n 1)"
"$CLI" vms --qmp --json > "$TMP/vms.json"
check "vms --qmp asks the running domain over QMP through libvirt (no vfio-pci device in it)" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); v=[x for x in d["vms"] if x["name"]=="qp2p-during"]
sys.exit(not (v and v[0]["qmp"]==[] and v[0]["qmp_error"] is None))' "$TMP/vms.json"
check "virsh domcapabilities works through the wrapper" sh -c "virsh domcapabilities --emulatorbin $W --virttype qemu | grep -q '<path>$W</path>'"
virsh -q destroy qp2p-during > /dev/null

"$CLI" uninstall > "$TMP/uninstall.out"
check "uninstall names the domain defined meanwhile" contains "$TMP/uninstall.out" "domain qp2p-during names $W"
"$CLI" status > "$TMP/status.un"
diag "status after uninstall:" "$(cat "$TMP/status.un")"
virsh -q start qp2p-during > /dev/null 2>&1
check "after uninstall, the domain defined meanwhile still starts" running qp2p-during
check "... without the wrapper (no new wrapper line)" sh -c "! tail -n 3 /var/log/libvirt/qemu/qp2p-during.log | grep -q '^qemu-p2p: '"
domain qp2p-after
# libvirt's PATH lookup finds the link first: new domains name it too (it
# runs the packaged QEMU). --redefine is the way out.
check "with the link in place, new domains name the link (a fact, see --redefine)" sh -c "virsh dumpxml qp2p-after | grep -q '<emulator>$W</emulator>'"
virsh -q destroy qp2p-during > /dev/null
"$CLI" uninstall --redefine --purge > "$TMP/redefine.out"
check "uninstall --redefine: both domains defined again with the packaged QEMU" sh -c "virsh dumpxml qp2p-during | grep -q '<emulator>/usr/bin/qemu-system-x86_64</emulator>' && virsh dumpxml qp2p-after | grep -q '<emulator>/usr/bin/qemu-system-x86_64</emulator>'"
check "... and with no domain naming it, --purge removed the link" [ ! -e "$W" ]
virsh -q undefine qp2p-after > /dev/null; domain qp2p-after
check "a domain defined after that gets the packaged path" sh -c "virsh dumpxml qp2p-after | grep -q '<emulator>/usr/bin/qemu-system-x86_64</emulator>'"
virsh -q start qp2p-during > /dev/null 2>&1
check "the redefined domain starts" running qp2p-during
done_testing

#!/bin/bash
# qemu-p2p install / uninstall / status under --root: shadow and divert
# modes, idempotence, AppArmor rules checked by the real apparmor_parser,
# uninstall with defined domains, and the installer killed (SIGKILL) after
# every step: a QEMU answers at the expected path each time, and running
# the command again finishes the job.
. "$(dirname "$0")/tap.sh"
FAKE_VERSION="QEMU emulator version 8.2.2 (fake packaged QEMU)"

# newroot R: a Debian-like tree with a packaged QEMU, libvirt's AppArmor
# abstraction and a config whose [qemu] binary is the packaged path.
newroot() {
	rm -rf "$1"
	mkdir -p "$1/var/lib/dpkg" "$1/usr/bin" "$1/usr/local/bin" "$1/etc/qemu-p2p.d" \
		"$1/etc/apparmor.d/abstractions" "$1/etc/apparmor.d/local/abstractions" "$1/etc/libvirt/qemu"
	touch "$1/var/lib/dpkg/status" "$1/etc/apparmor.d/local/abstractions/libvirt-qemu"
	cp /etc/apparmor.d/abstractions/libvirt-qemu "$1/etc/apparmor.d/abstractions/"
	printf '#!/bin/sh\necho "%s"\n' "$FAKE_VERSION" > "$1/usr/bin/qemu-system-x86_64"
	chmod 755 "$1/usr/bin/qemu-system-x86_64"
	printf '[qemu]\nbinary = %s/usr/bin/qemu-system-x86_64\n' "$1" > "$1/etc/qemu-p2p.conf"
	chmod 644 "$1/etc/qemu-p2p.conf"
}
inst() { "$CLI" install --root "$R" --wrapper "$WRAP" "$@"; }
uninst() { "$CLI" uninstall --root "$R" "$@"; }
# answers PATH: QEMU -version runs there and reaches the packaged QEMU.
answers() { QEMU_P2P_CONFIG=$R/etc/qemu-p2p.conf "$1" -version 2>/dev/null | grep -qF "$FAKE_VERSION"; }
# first_answers: what libvirt's PATH lookup finds first still runs.
first_answers() {
	local p
	for p in "$R/usr/local/bin/qemu-system-x86_64" "$R/usr/bin/qemu-system-x86_64"; do
		[ -e "$p" ] && { answers "$p"; return; }
	done
	return 1
}
json_is() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not ($2))" "$1"; }

R=$TMP/root
newroot "$R"
"$CLI" status --root "$R" --json > "$TMP/s0"
check "status before install: mode none, wrapper not installed" json_is "$TMP/s0" 'd["install_mode"]=="none" and not d["wrapper_installed"]'
inst --dry-run > "$TMP/dry"
check "--dry-run changes nothing" sh -c "[ ! -e '$R/usr/local/bin/qemu-system-x86_64' ] && grep -q 'would change' '$TMP/dry'"
inst --json > "$TMP/j1" 2> "$TMP/e1"
check "install (shadow) --json: changed, the wrapper path" json_is "$TMP/j1" 'd["changed"] and d["wrapper"]=="/usr/local/bin/qemu-system-x86_64" and "/usr/local/bin/qemu-system-x86_64" in d["files"]'
check "the wrapper is at /usr/local/bin, executable" sh -c "[ -x '$R/usr/local/bin/qemu-system-x86_64' ] && cmp -s '$WRAP' '$R/usr/local/bin/qemu-system-x86_64'"
check "the packaged QEMU is untouched" sh -c "[ \"\$(cat '$R/usr/bin/qemu-system-x86_64' | tail -n 1)\" = 'echo \"$FAKE_VERSION\"' ]"
check "-version through the wrapper reaches the packaged QEMU" answers "$R/usr/local/bin/qemu-system-x86_64"
check "under --root: refresh and self-test are skipped, and it says so" contains "$TMP/e1" "skipped under --root"
inst --json > "$TMP/j2" 2>/dev/null
check "install twice = once: no change" json_is "$TMP/j2" 'not d["changed"] and d["files"]==[]'
AA=$R/etc/apparmor.d/local/abstractions/libvirt-qemu
check "AppArmor: the wrapper's path rmix" contains "$AA" "  /usr/local/bin/qemu-system-x86_64 rmix,"
check "AppArmor: both configuration files" sh -c "grep -q '/etc/qemu-p2p.conf r,' '$AA' && grep -q '/etc/qemu-p2p.d/host.conf r,' '$AA'"
check "AppArmor: the sysfs attributes the wrapper reads (modalias, numa_node)" \
	grep -q '^  /sys/devices/pci\[0-9\]\*/\*\*/{modalias,[a-z_,]*numa_node} r,$' "$AA"
printf '#include <tunables/global>\nprofile qp2p-test flags=(attach_disconnected) {\n  #include <abstractions/libvirt-qemu>\n}\n' > "$TMP/profile"
check "AppArmor: libvirt's abstraction plus our lines parses (apparmor_parser -Q -T -K)" \
	apparmor_parser -Q -T -K -I "$R/etc/apparmor.d" -I /etc/apparmor.d "$TMP/profile"
cp "$AA" "$TMP/aa.good"; echo '  /bogus rwxq,' >> "$AA"
check "AppArmor: the parser check can fail (a bogus line is refused)" sh -c "! apparmor_parser -Q -T -K -I '$R/etc/apparmor.d' -I /etc/apparmor.d '$TMP/profile' 2>/dev/null"
cp "$TMP/aa.good" "$AA"
"$CLI" status --root "$R" --json > "$TMP/s1"
check "status after install: shadow, installed, -version through it" json_is "$TMP/s1" 'd["install_mode"]=="shadow" and d["wrapper_installed"] and d["verdict"]["config"]=="valid"'

# A domain defined while the wrapper was installed.
printf '<domain type="qemu"><name>dom1</name><devices><emulator>/usr/local/bin/qemu-system-x86_64</emulator></devices></domain>\n' \
	> "$R/etc/libvirt/qemu/dom1.xml"
"$CLI" status --root "$R" > "$TMP/s2"
check "status lists the domains and their emulator path" contains "$TMP/s2" "dom1                 /usr/local/bin/qemu-system-x86_64"
uninst --json > "$TMP/u1"
check "uninstall with a domain naming the wrapper: it is listed" json_is "$TMP/u1" 'd["changed"] and d["domains"]==["dom1"]'
check "... and the wrapper became a link to the packaged QEMU" sh -c "[ \"\$(readlink '$R/usr/local/bin/qemu-system-x86_64')\" = /usr/bin/qemu-system-x86_64 ]"
check "uninstall removed our AppArmor lines" sh -c "! grep -q qemu-p2p '$AA'"
check "uninstall removed the state directory install made (empty now)" [ ! -e "$R/var/lib/qemu-p2p" ]
uninst --purge > /dev/null
check "--purge keeps the link while a domain names it" [ -L "$R/usr/local/bin/qemu-system-x86_64" ]
rm "$R/etc/libvirt/qemu/dom1.xml"
mkdir -p "$R/etc/qemu-p2p.d"; printf '# Generated\n' > "$R/etc/qemu-p2p.d/host.conf"
uninst --purge > /dev/null
check "--purge with no domain left: link, host file and state gone" sh -c "[ ! -e '$R/usr/local/bin/qemu-system-x86_64' ] && [ ! -e '$R/usr/local/bin/qemu-system-x86_64' ] && [ ! -e '$R/etc/qemu-p2p.d' ] && [ ! -e '$R/var/lib/qemu-p2p' ]"
check "--purge never touches the operator's file" [ -f "$R/etc/qemu-p2p.conf" ]
uninst --json > "$TMP/u2"
check "uninstall again: nothing to do" json_is "$TMP/u2" 'not d["changed"]'
uninst --dry-run > "$TMP/u3"
check "uninstall --dry-run with nothing installed says so (not silence)" grep -qx 'nothing to uninstall' "$TMP/u3"

# Domain files are read with libxml2, as libvirt reads them: libvirt's own
# saved files (tests/fixtures/libvirt-saved), then files that fool a text
# search for "<emulator>". W is the wrapper's path, B a path named only
# where libvirt does not look.
W=/usr/local/bin/qemu-system-x86_64 B=/opt/bogus/qemu-system-x86_64
domains() { # domains NAME...: only these files of $DOMS are defined
	rm -rf "$R/etc/libvirt/qemu"; mkdir -p "$R/etc/libvirt/qemu"
	for f; do cp "$DOMS/$f.xml" "$R/etc/libvirt/qemu/"; done
}
# status_says PYTHON: over status --json's domains as d = {name: emulator or "ERROR: why"}.
status_says() {
	"$CLI" status --root "$R" --json > "$TMP/st.json"
	python3 -c "import json,sys; d={x['name']: x['emulator'] if x['error'] is None else 'ERROR: '+x['error'] for x in json.load(open(sys.argv[1]))['domains']}; print('#', d); sys.exit(not ($1))" "$TMP/st.json"
}
DOMS=$QP2P_SRC/tests/fixtures/libvirt-saved
newroot "$R"; inst > /dev/null 2>&1
domains instance-0000002a gpu-vm
check "libvirt's saved files: status shows the <emulator> libvirt filled in, and the one named" \
	status_says "d=={'instance-0000002a': '$W', 'gpu-vm': '/usr/bin/qemu-system-x86_64'}"
DOMS=$QP2P_SRC/tests/fixtures/libvirt-saved/libvirt-tests
domains QEMUGuest1 QEMUGuest2 delete
check "libvirt's test suite files (qemuxml2xmloutdata: vfio hostdevs, the qemu namespace): each <emulator>" \
	status_says "d=={'QEMUGuest1': '/usr/bin/qemu-system-x86_64', 'QEMUGuest2': '/usr/bin/qemu-system-i386', 'delete': '/usr/bin/qemu-system-x86_64'}"
DOMS=$TMP/doms; mkdir -p "$DOMS"
cat > "$DOMS/commented.xml" << XML
<domain type='kvm'><name>commented</name><devices>
  <!-- <emulator>$B</emulator> -->
  <emulator>$W</emulator>
</devices></domain>
XML
cat > "$DOMS/cdata.xml" << XML
<domain type="kvm"><name>cdata</name><devices><emulator><![CDATA[$W]]></emulator></devices></domain>
XML
cat > "$DOMS/entity.xml" << XML
<?xml version="1.0"?>
<!DOCTYPE domain [ <!ENTITY qemu "qemu-system-x86&#95;64"> ]>
<domain type='kvm'><name>entity</name><devices><emulator>/usr/local/bin/&qemu;</emulator></devices></domain>
XML
# Nova's metadata, in its namespace, before the devices: an <emulator> there
# is not libvirt's, nor is one in another namespace inside <devices>.
cat > "$DOMS/namespace.xml" << XML
<domain type="kvm" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
  <name>namespace</name>
  <metadata><nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><emulator>$B</emulator></nova:instance></metadata>
  <devices><qemu:emulator>$B</qemu:emulator><emulator
    >$W</emulator></devices>
</domain>
XML
cat > "$DOMS/elsewhere.xml" << XML
<domain type='kvm'><name>elsewhere</name>
  <description>&lt;emulator&gt;$W&lt;/emulator&gt;</description>
  <!-- <emulator>$W</emulator> -->
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
XML
printf '<domain type="kvm"><name>cut</name><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>\n' > "$DOMS/cut.xml"
domains commented cdata entity namespace elsewhere cut
mkfifo "$R/etc/libvirt/qemu/fifo.xml"
check "status: the real <emulator> past a comment, CDATA, entities, other namespaces; none from a comment or escaped text" \
	status_says "all(d[n]=='$W' for n in ('commented','cdata','entity','namespace')) and d['elsewhere']=='/usr/bin/qemu-system-x86_64'"
check "status: a file that does not parse and a FIFO named unreadable (line and why), not taken as naming nothing" \
	status_says "d['cut'].startswith('ERROR: line 2: ') and d['fifo']=='ERROR: not a regular file'"
"$CLI" status --root "$R" > "$TMP/st.txt"
check "status text: the unreadable file named, and what that means" \
	contains "$TMP/st.txt" "cut                  unreadable (/etc/libvirt/qemu/cut.xml: line 2: "
uninst > "$TMP/u.out" 2> "$TMP/u.err"
listed() {
	local n
	for n in commented cdata entity namespace; do grep -qx "domain $n names $W" "$TMP/u.out" || return 1; done
	grep -qx "domain cut may name $W" "$TMP/u.out" && ! grep -q elsewhere "$TMP/u.out"
}
check "uninstall: each domain that names the wrapper is listed, the unreadable ones as 'may name'" listed
check "uninstall: the unreadable files are named on stderr" sh -c "grep -q '^qemu-p2p uninstall: /etc/libvirt/qemu/cut.xml: cannot be read: line 2: ' '$TMP/u.err' && grep -q 'fifo.xml: cannot be read: not a regular file' '$TMP/u.err'"
check "uninstall: the wrapper became a link to the packaged QEMU, not removed" [ "$(readlink "$R$W")" = /usr/bin/qemu-system-x86_64 ]
inst > /dev/null 2>&1; domains cut; uninst --purge > /dev/null 2>&1
check "uninstall --purge: a file that does not parse, alone, keeps the link (it may name the wrapper)" [ -L "$R$W" ]
inst > /dev/null 2>&1; domains elsewhere; uninst --purge > /dev/null 2>&1
check "uninstall --purge: the wrapper named only in a comment and in escaped text is removed" [ ! -e "$R$W" ]

# A file of someone else's at the shadow path is never overwritten.
newroot "$R"
printf '#!/bin/sh\necho mine\n' > "$R/usr/local/bin/qemu-system-x86_64"; chmod 755 "$R/usr/local/bin/qemu-system-x86_64"
inst > /dev/null 2> "$TMP/err"; rc=$?
check "a foreign file at the shadow path: refused, exit 1, untouched" sh -c "[ $rc -eq 1 ] && grep -q mine '$R/usr/local/bin/qemu-system-x86_64' && grep -q 'is not qemu-p2p-wrap' '$TMP/err'"

# divert: dpkg-divert under the root, QEMU kept as .real in the same directory.
newroot "$R"
ino=$(stat -c %i "$R/usr/bin/qemu-system-x86_64")
inst --mode divert > /dev/null 2>&1
check "divert: .real is the packaged QEMU (same inode)" [ "$(stat -c %i "$R/usr/bin/qemu-system-x86_64.real")" = "$ino" ]
check "divert: the wrapper at the packaged path" cmp -s "$WRAP" "$R/usr/bin/qemu-system-x86_64"
check "divert: dpkg records a local diversion" sh -c "dpkg-divert --root '$R' --truename /usr/bin/qemu-system-x86_64 | grep -qx /usr/bin/qemu-system-x86_64.real"
check "divert: -version through the wrapper reaches .real" answers "$R/usr/bin/qemu-system-x86_64"
check "divert: AppArmor allows .real" contains "$AA" "/usr/bin/qemu-system-x86_64.real rmix,"
inst --mode divert --json > "$TMP/d2" 2>/dev/null
check "divert twice = once" json_is "$TMP/d2" 'not d["changed"]'
uninst > /dev/null
undone() { answers "$R/usr/bin/qemu-system-x86_64" && [ ! -e "$R/usr/bin/qemu-system-x86_64.real" ] &&
	dpkg-divert --root "$R" --truename /usr/bin/qemu-system-x86_64 | grep -qx /usr/bin/qemu-system-x86_64; }
check "divert undone: QEMU back at its path, .real gone, no diversion" undone

# rpm family: divert without dpkg; a qemu-kvm update overwrites the wrapper
# and the dnf action's rerun of install puts it back with the new QEMU.
rpmroot() {
	rm -rf "$R"; mkdir -p "$R/usr/libexec" "$R/etc"
	echo "Red Hat Enterprise Linux release 9.4" > "$R/etc/redhat-release"
	printf '#!/bin/sh\necho "QEMU emulator version 8.2.0"\n' > "$R/usr/libexec/qemu-kvm"; chmod 755 "$R/usr/libexec/qemu-kvm"
}
R=$TMP/rpm; rpmroot
inst --mode divert > "$TMP/rpm0" 2>&1
check "rpm divert without a dnf actions plugin: no plugin directory created, and it says what to do" \
	sh -c "[ ! -e '$R/etc/dnf' ] && grep -q 'after each qemu-kvm update, run \"qemu-p2p install --mode divert\" again' '$TMP/rpm0'"
rpmroot; mkdir -p "$R/etc/dnf/plugins/post-transaction-actions.d" "$R/etc/dnf/libdnf5-plugins/actions.d"
inst --mode divert --json > "$TMP/rpm1" 2>/dev/null
check "rpm divert: the wrapper at /usr/libexec/qemu-kvm, QEMU as .real" sh -c "cmp -s '$WRAP' '$R/usr/libexec/qemu-kvm' && grep -q 8.2.0 '$R/usr/libexec/qemu-kvm.real'"
check "rpm divert: dnf4 and dnf5 actions rerun install after qemu-kvm updates" sh -c "grep -q '^qemu-kvm-core:in:/usr/.*bin/qemu-p2p install --mode divert' '$R/etc/dnf/plugins/post-transaction-actions.d/qemu-p2p.action' && grep -q '^post_transaction:qemu-kvm-core:in::' '$R/etc/dnf/libdnf5-plugins/actions.d/qemu-p2p.actions'"
printf '#!/bin/sh\necho "QEMU emulator version 9.0.0"\n' > "$R/usr/libexec/qemu-kvm.new"; chmod 755 "$R/usr/libexec/qemu-kvm.new"
mv "$R/usr/libexec/qemu-kvm.new" "$R/usr/libexec/qemu-kvm"   # what rpm does on update
inst --mode divert > /dev/null 2>&1
check "rpm divert after a QEMU update: wrapper back, .real is the new QEMU" sh -c "cmp -s '$WRAP' '$R/usr/libexec/qemu-kvm' && grep -q 9.0.0 '$R/usr/libexec/qemu-kvm.real'"
uninst > /dev/null
check "rpm divert undone: the new QEMU at its path, actions removed" sh -c "grep -q 9.0.0 '$R/usr/libexec/qemu-kvm' && [ ! -e '$R/usr/libexec/qemu-kvm.real' ] && [ ! -e '$R/etc/dnf/plugins/post-transaction-actions.d/qemu-p2p.action' ]"

# SIGKILL after each step: QEMU answers at the expected path; again = done.
for mode in shadow divert; do
	steps=$([ $mode = divert ] && echo 5 || echo 3)
	newroot "$TMP/ref"; R=$TMP/ref; inst --mode $mode > /dev/null 2>&1; ref=$(cd "$R" && find . -type f -o -type l | sort | xargs -d '\n' md5sum 2>/dev/null | grep -v -e dpkg/diversions -e qemu-p2p.conf)
	bad=""
	for k in $(seq 1 $steps); do
		R=$TMP/kill; newroot "$R"
		QEMU_P2P_TEST_KILL_AFTER=$k "$CLI_TESTHOOKS" install --root "$R" --wrapper "$WRAP" --mode $mode > /dev/null 2>&1; rc=$?
		[ $rc -eq 137 ] || bad="$bad install-step$k:not-killed($rc)"
		first_answers || bad="$bad install-step$k:no-qemu"
		inst --mode $mode > /dev/null 2>&1 || bad="$bad install-step$k:rerun-failed"
		now=$(cd "$R" && find . -type f -o -type l | sort | xargs -d '\n' md5sum 2>/dev/null | grep -v -e dpkg/diversions -e qemu-p2p.conf)
		[ "$now" = "$(echo "$ref" | sed "s|$TMP/ref|$TMP/kill|g")" ] || bad="$bad install-step$k:differs"
		QEMU_P2P_TEST_KILL_AFTER=$k "$CLI_TESTHOOKS" uninstall --root "$R" > /dev/null 2>&1
		first_answers || bad="$bad uninstall-step$k:no-qemu"
		uninst > /dev/null 2>&1
		first_answers || bad="$bad uninstall-step$k:no-qemu-after"
		[ ! -e "$R/var/lib/qemu-p2p/install.state" ] || bad="$bad uninstall-step$k:state-left"
	done
	diag "$mode: killed after each of $steps install steps and each uninstall step:${bad:- all good}"
	check "$mode: SIGKILL after every step leaves a runnable QEMU; a rerun finishes" [ -z "$bad" ]
	QEMU_P2P_TEST_KILL_AFTER=1 inst --mode $mode > /dev/null 2>&1
	check "$mode: the installed qemu-p2p has no kill hook (test builds only)" [ $? -eq 0 ]
done

# Refusals come first, in one line, and change nothing.
newroot "$R"; find "$R" | sort > "$TMP/tree0"
# refused RC ERR-FILE PATTERN: exit 1, one line on stderr matching, the tree as it was.
refused() { [ "$1" -eq 1 ] && [ "$(wc -l < "$2")" -eq 1 ] && grep -q -- "$3" "$2" && find "$R" | sort | cmp -s - "$TMP/tree0"; }
for cmd in install uninstall; do
	setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" $cmd --root "$R" > /dev/null 2> "$TMP/err"
	check "$cmd unprivileged: refused first ('needs root'), nothing changed" \
		refused $? "$TMP/err" "^qemu-p2p $cmd: needs root: run it as root (or with --dry-run"
	setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" $cmd --root "$R" --json > "$TMP/out" 2> /dev/null
	check "$cmd unprivileged --json: one JSON object saying so" json_is "$TMP/out" '"needs root" in d["error"] and d["exit_status"]==1'
done
for w in /etc/passwd /bin/true "$TMP/missing"; do
	inst --wrapper "$w" > /dev/null 2> "$TMP/err"
	check "install --wrapper $w: refused, named, nothing changed" refused $? "$TMP/err" "^qemu-p2p install: $w: .*given with --wrapper"
	diag "$(cat "$TMP/err")"
done
check "... /etc/passwd: because it is not qemu-p2p-wrap" grep -q "/etc/passwd: not qemu-p2p-wrap" <(inst --wrapper /etc/passwd 2>&1)
inst --wrapper /bin/true --json > "$TMP/out" 2> /dev/null
check "install --wrapper /bin/true --json: one JSON object with the reason" json_is "$TMP/out" '"not qemu-p2p-wrap" in d["error"]'
"$CLI" install --root "$TMP/nonexistent" --wrapper "$WRAP" 2> "$TMP/err"
check "install --root DIR that does not exist: refused, named, not created" \
	sh -c "[ $? -eq 1 ] && grep -q 'nonexistent: no such directory' '$TMP/err' && [ ! -e '$TMP/nonexistent' ]"
"$CLI" install --mode sideways 2> "$TMP/err"; rc=$?
check "--mode sideways: usage error 64" sh -c "[ $rc -eq 64 ] && grep -q 'use shadow or divert' '$TMP/err'"
for args in "uninstall --mode divert:--mode belongs to install" "install --purge:--purge belongs to uninstall" \
	"install --redefine:--redefine belongs to uninstall" "uninstall --no-refresh:--no-refresh belongs to install" \
	"uninstall --wrapper=/x:--wrapper belongs to install"; do
	"$CLI" ${args%%:*} 2> "$TMP/err"; rc=$?
	check "${args%%:*}: usage error 64, '${args#*:}'" sh -c "[ $rc -eq 64 ] && grep -qF -- '${args#*:}' '$TMP/err'"
done
done_testing

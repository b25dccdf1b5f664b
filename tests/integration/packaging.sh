#!/bin/bash
# The Debian package built, installed, triggered, removed and purged for
# real; the Ansible role run twice against localhost (the second run
# changes nothing) and failing the play on a doctor failure; the kolla
# override rendered. Needs root and a disposable machine; skips otherwise.
. "$(dirname "$0")/tap.sh"
W=/usr/local/bin/qemu-system-x86_64
need="dpkg-buildpackage dh ansible-playbook"
for t in $need; do command -v "$t" > /dev/null || { skip "packaging" "$t missing (make deps installs it)"; done_testing; exit 0; }; done
if [ "$(id -u)" != 0 ] || dpkg -s qemu-p2p > /dev/null 2>&1 || [ -e "$W" ] || [ -e /etc/qemu-p2p.conf ]; then
	skip "packaging" "needs root, and no qemu-p2p package, $W or /etc/qemu-p2p.conf already there"
	done_testing; exit 0
fi
cleanup() { dpkg -P qemu-p2p > /dev/null 2>&1; rm -f /etc/qemu-p2p.conf; rm -rf "$TMP"; }
trap cleanup EXIT
chmod 755 "$TMP"

# Built as `make deb` builds it (tools/package.sh), then linted.
sh "$QP2P_SRC/tools/package.sh" deb "$TMP/pkg" > "$TMP/build.log" 2>&1
DEB=$(ls "$TMP"/pkg/deb/qemu-p2p_*_*.deb 2> /dev/null | head -n 1)
check "make deb's recipe (tools/package.sh deb) builds the .deb" [ -n "$DEB" ]
[ -n "$DEB" ] || { diag "$(tail -n 20 "$TMP/build.log")"; done_testing; exit 1; }
if command -v lintian > /dev/null; then
	lintian --no-tag-display-limit "$TMP"/pkg/deb/*.changes 2>&1 | grep -E '^[EW]: ' > "$TMP/lintian"
	check "lintian: no error or warning on the .debs" [ ! -s "$TMP/lintian" ]
	[ ! -s "$TMP/lintian" ] || diag "$(cat "$TMP/lintian")"
else
	skip "lintian" "lintian missing (make deps installs it)"
fi
check "the package ships no /etc/qemu-p2p.conf (never a conffile prompt)" sh -c "! dpkg -c '$DEB' | grep -q 'etc/qemu-p2p.conf'"
check "the package ships the example configuration under /usr/share/doc" sh -c "dpkg -c '$DEB' | grep -q usr/share/doc/qemu-p2p/examples/qemu-p2p.conf"
GUEST_DEB=$(ls "$TMP"/pkg/deb/qemu-p2p-guest_*_*.deb 2> /dev/null | head -n 1)
check "the guest package is built from the same source" [ -n "$GUEST_DEB" ]
check "the guest package holds qemu-p2p-guest, p2pbench, their pages and the boot-time topology unit" sh -c "dpkg -c '$GUEST_DEB' |
	grep -c -e usr/bin/qemu-p2p-guest -e usr/bin/p2pbench -e man1/qemu-p2p-guest.1 -e man1/p2pbench.1 -e qemu-p2p-guest-topology.service | grep -qx 5"
check "the host package holds no guest program" sh -c "! dpkg -c '$DEB' | grep -q -e p2pbench -e qemu-p2p-guest"

dpkg -i "$DEB" > "$TMP/dpkg-i.log" 2>&1
check "dpkg -i installs it" sh -c "dpkg-query -W -f '\${Status}' qemu-p2p | grep -qx 'install ok installed'"
check "qemu-p2p --version" sh -c "qemu-p2p --version | grep -q '^qemu-p2p 0.1.0'"
check "the CLI is /usr/bin/qemu-p2p, on an ordinary user's PATH" [ "$(command -v qemu-p2p)" = /usr/bin/qemu-p2p ]
EX=/usr/share/qemu-p2p/example
runuser -u nobody -- qemu-p2p topo --sysfs "$EX/sys" > "$TMP/topo" 2>&1
check "an ordinary user runs qemu-p2p topo on the shipped example host" grep -q '^GPU7 .* PIX    X' "$TMP/topo"
runuser -u nobody -- qemu-p2p plan --sysfs "$EX/sys" -c "$EX/qemu-p2p.conf" --from-nvidia-smi "$EX/nvidia-smi.out" > "$TMP/plan" 2>&1
check "... and plan on it, with its configuration and nvidia-smi output" grep -q '^Group 0: .* 0000:f5:00.0$' "$TMP/plan"
check "man qemu-p2p finds the page" sh -c "man -w qemu-p2p | grep -q 'man8/qemu-p2p.8'"
check "installing the package does not activate the wrapper" [ ! -e "$W" ]

# The Ansible role, twice; doctor pointed at the example host with a QEMU
# 8.2 stand-in (QEMU 7.2 with the example's Blackwell GPUs is a doctor FAIL).
printf '#!/bin/sh\necho "QEMU emulator version 8.2.2"\n' > "$TMP/qemu-8.2"; chmod 755 "$TMP/qemu-8.2"
cat > "$TMP/vars.json" <<J
{"qemu_p2p_deb": "$DEB", "qemu_p2p_mode": "map",
 "qemu_p2p_map": {"0": ["0000:05:00.0", "0000:06:00.0", "0000:76:00.0", "0000:77:00.0",
                        "0000:85:00.0", "0000:86:00.0", "0000:f4:00.0", "0000:f5:00.0"]},
 "qemu_p2p_doctor_args": ["--sysfs", "$EX/sys", "--qemu", "$TMP/qemu-8.2"]}
J
play() { ANSIBLE_ROLES_PATH=$QP2P_SRC/packaging/ansible/roles ANSIBLE_NOCOLOR=1 \
	ansible-playbook -i localhost, -c local -e "@$TMP/vars.json" "$@" "$QP2P_SRC/packaging/ansible/test.yml"; }
recap() { grep -oE 'changed=[0-9]+ +unreachable=[0-9]+ +failed=[0-9]+' "$1" | head -n 1; }
play > "$TMP/play1" 2>&1; rc=$?
diag "first run: $(recap "$TMP/play1")"
check "Ansible, first run: succeeds and changes" sh -c "[ $rc -eq 0 ] && grep -qE 'changed=[1-9]' '$TMP/play1'"
check "Ansible templated /etc/qemu-p2p.conf, four addresses a line" grep -qx '    0000:85:00.0 0000:86:00.0 0000:f4:00.0 0000:f5:00.0' /etc/qemu-p2p.conf
check "Ansible ran qemu-p2p install: the wrapper is in place" sh -c "cmp -s /usr/libexec/qemu-p2p/qemu-p2p-wrap '$W'"
play > "$TMP/play2" 2>&1; rc=$?
diag "second run: $(recap "$TMP/play2")"
check "Ansible, second run: no changes" sh -c "[ $rc -eq 0 ] && grep -qE 'changed=0 +unreachable=0 +failed=0' '$TMP/play2'"
play -e '{"qemu_p2p_doctor_args": ["--sysfs", "'"$EX/sys"'", "--qemu", "/usr/bin/qemu-system-x86_64"]}' > "$TMP/play3" 2>&1; rc=$?
check "Ansible fails the play when doctor reports a failure (QEMU 7.2, MSI-X at 0xC8)" sh -c "[ $rc -ne 0 ] && grep -q qemu-caps '$TMP/play3'"

# The QEMU-upgrade trigger: facts refreshed, wrapper touched.
before=$(stat -c %Z "$W"); sleep 1.1
dpkg-trigger --no-await /usr/bin/qemu-system-x86_64 && dpkg --triggers-only --pending > /dev/null 2>&1
check "the trigger on /usr/bin/qemu-system-x86_64 touches the wrapper (libvirt re-probes)" [ "$(stat -c %Z "$W")" != "$before" ]
check "... and refreshes the host facts" grep -q "^identity = $(stat -L -c '%d:%i:%s:%Y' /usr/bin/qemu-system-x86_64)" /etc/qemu-p2p.d/host.conf

dpkg -r qemu-p2p > "$TMP/dpkg-r.log" 2>&1
check "dpkg -r: prerm ran qemu-p2p uninstall (the wrapper is gone)" [ ! -e "$W" ]
check "dpkg -r: our AppArmor lines are gone" sh -c "! grep -qs qemu-p2p /etc/apparmor.d/local/abstractions/libvirt-qemu"
check "dpkg -r: the operator's file stays" [ -f /etc/qemu-p2p.conf ]
dpkg -P qemu-p2p > "$TMP/dpkg-p.log" 2>&1
left=$(find /etc /usr /var/lib -xdev -name '*qemu-p2p*' 2> /dev/null | grep -v '^/etc/qemu-p2p.conf$')
check "dpkg -P: nothing of ours left but the operator's file${left:+ (left: $left)}" [ -z "$left" ]

dpkg -i "$GUEST_DEB" > "$TMP/dpkg-guest.log" 2>&1
check "the guest package installs: qemu-p2p-guest --version" sh -c "qemu-p2p-guest --version | grep -q '^qemu-p2p-guest 0.1.0'"
python3 "$MKHOST" "$QP2P_SRC/tests/fixtures/guest/clique-of-2.host" "$TMP/guest-sys"
check "the installed qemu-p2p-guest reads a guest tree" sh -c "qemu-p2p-guest cliques --sysfs '$TMP/guest-sys' | grep -q '0000:02:00.0  0     0'"
check "the boot-time unit is enabled by the package" [ -e /etc/systemd/system/multi-user.target.wants/qemu-p2p-guest-topology.service ]
dpkg -P qemu-p2p-guest > "$TMP/dpkg-guest-p.log" 2>&1
check "dpkg -P qemu-p2p-guest: nothing of it left" sh -c "! command -v qemu-p2p-guest && [ ! -e /etc/systemd/system/multi-user.target.wants/qemu-p2p-guest-topology.service ]"

# Debian's python3 (python3-jinja2), not whatever python3 comes first on PATH.
/usr/bin/python3 "$QP2P_SRC/packaging/kolla/check_render.py" "$QP2P_SRC/packaging/kolla" > "$TMP/kolla" 2>&1
rc=$?
diag "$(cat "$TMP/kolla")"
check "the kolla override renders (Jinja, deb and RPM images) with the lines that matter" [ $rc -eq 0 ]
done_testing

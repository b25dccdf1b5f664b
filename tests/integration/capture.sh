#!/bin/bash
# qemu-p2p capture: one top-level folder qemu-p2p-capture-HOST-DATE/ with
# relative paths and links only, which every command reads back alike
# (--sysfs, --config); the configuration loaded as the wrapper loads it; a
# bad -o, -c or rejected configuration said in one line, nothing created.
. "$(dirname "$0")/tap.sh"
export QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf
config "$TMP/etc" "[cliques]
mode = auto"
host blog-8gpu "$TMP/blog"
"$CLI" topo --sysfs "$TMP/blog" --json > "$TMP/topo.json"
"$CLI" plan --sysfs "$TMP/blog" > "$TMP/plan"
printf '# Generated\n[qemu]\nbinary = /usr/bin/qemu-system-x86_64\n' > "$TMP/etc/qemu-p2p.d/host.conf"
stray() { ls -d /tmp/qemu-p2p-capture.* 2> /dev/null; }
before=$(stray)

mkdir "$TMP/out"
(cd "$TMP/out" && "$CLI" capture --sysfs "$TMP/blog") > "$TMP/cap.out" 2>&1
tgz=$(ls "$TMP/out")
diag "$(cat "$TMP/cap.out")"
check "capture: the default output is qemu-p2p-capture-HOST-DATE.tar.gz here" \
	sh -c "echo '$tgz' | grep -qE '^qemu-p2p-capture-[A-Za-z0-9._-]+-[0-9]{8}-[0-9]{6}\.tar\.gz$'"
top=${tgz%.tar.gz}
tar tzf "$TMP/out/$tgz" > "$TMP/members"
check "capture: every member is inside the one top-level folder $top/, none absolute or with .." \
	sh -c "! grep -v -e '^$top/' -e '^$top\$' '$TMP/members' && ! grep -q -e '^/' -e '\(^\|/\)\.\.\(/\|\$\)' '$TMP/members'"
tar tvzf "$TMP/out/$tgz" | grep '^l' | sed 's/.* -> //' > "$TMP/links"
check "capture: every link is relative ($(wc -l < "$TMP/links") links)" sh -c "[ -s '$TMP/links' ] && ! grep -q '^/' '$TMP/links'"
check "capture: its output names the file and the folder" grep -qF "wrote $tgz: $top/" "$TMP/cap.out"
mkdir "$TMP/un" && tar xzf "$TMP/out/$tgz" -C "$TMP/un"
check "capture: tar xzf makes exactly that folder" [ "$(ls "$TMP/un")" = "$top" ]
C=$TMP/un/$top
"$CLI" topo --sysfs "$C/sys" --json > "$TMP/cap.json"
check "capture: topo --json of the unpacked tree equals the original" cmp -s "$TMP/cap.json" "$TMP/topo.json"
"$CLI" plan --sysfs "$C/sys" -c "$C/etc/qemu-p2p.conf" > "$TMP/cap.plan"
# (but for the note on what stops the wrapper, which names the host file)
check "capture: plan --sysfs FOLDER/sys -c FOLDER/etc/qemu-p2p.conf equals the original" \
	sh -c "grep -v '^Note:' '$TMP/cap.plan' > '$TMP/cap.plan.g'; grep -v '^Note:' '$TMP/plan' | cmp -s - '$TMP/cap.plan.g'"
check "capture: the manifest records config bytes per function" grep -q '^config 0000:05:00.0 256 bytes$' "$C/MANIFEST"
check "capture: both configuration files" sh -c "[ -f '$C/etc/qemu-p2p.conf' ] && [ -f '$C/etc/qemu-p2p.d/host.conf' ]"
check "capture: the real QEMU's -version" grep -q 'QEMU emulator version' "$C/qemu-version.txt"
check "capture: /proc/cmdline" [ -s "$C/proc/cmdline" ]
"$CLI" capture --sysfs "$TMP/blog" -o "$TMP/out" > /dev/null 2>&1
check "capture -o DIR: the default name inside DIR" [ "$(ls "$TMP/out" | grep -c '^qemu-p2p-capture-.*\.tar\.gz$')" -ge 1 ]

# Bad input: one line naming it, exit 1, nothing created or left behind.
# refused RC PATTERN [PATH]: about the last command's stderr ($TMP/err); PATH
# must not exist.
refused() {
	[ "$1" -eq 1 ] && [ "$(wc -l < "$TMP/err")" -eq 1 ] && grep -q -- "$2" "$TMP/err" && [ "$(stray)" = "$before" ] &&
		[ ! -e "${3:-/nonexistent}" ]
}
"$CLI" capture --sysfs "$TMP/blog" -o "$TMP/nodir/sub/cap.tar.gz" > /dev/null 2> "$TMP/err"
check "capture -o into a missing directory: refused, the directory named, nothing created" \
	refused $? " -o $TMP/nodir/sub/cap.tar.gz: $TMP/nodir/sub: no such directory" "$TMP/nodir"
diag "$(cat "$TMP/err")"
"$CLI" capture --sysfs "$TMP/blog" -o "$TMP/etc/qemu-p2p.conf/x.tgz" > /dev/null 2> "$TMP/err"
check "capture -o under a file: refused ('not a directory')" refused $? "qemu-p2p.conf: not a directory"
"$CLI" capture --sysfs "$TMP/blog" -c "$TMP/missing.conf" -o "$TMP/out/m.tgz" > /dev/null 2> "$TMP/err"
check "capture -c FILE that does not exist: refused, named, no tarball" refused $? "missing.conf: no such file" "$TMP/out/m.tgz"

# A configuration the wrapper rejects is captured as it is, and said.
printf '[cliques]\nlevel = SYSS\n' > "$TMP/etc/qemu-p2p.conf"
"$CLI" capture --sysfs "$TMP/blog" -o "$TMP/out/rej.tgz" > "$TMP/rej.out" 2>&1
check "capture with a rejected configuration: exit 0, the tarball, and it says file:line and why" \
	sh -c "[ $? -eq 0 ] && [ -s '$TMP/out/rej.tgz' ] && grep -q '^configuration rejected by the wrapper: $TMP/etc/qemu-p2p.conf:2: ' '$TMP/rej.out'"
diag "$(cat "$TMP/rej.out")"
check "capture: no staging directory left in /tmp" [ "$(stray)" = "$before" ]
done_testing

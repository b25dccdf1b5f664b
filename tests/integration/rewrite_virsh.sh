#!/bin/bash
# qemu-p2p rewrite --virsh on what real virsh prints (domxml-to-native
# qemu-argv with the embedded driver, no daemon), JSON and legacy -device
# syntax, and on libvirt's own test outputs (one argument a line with
# backslash-newline continuations): the same argv, and so the same report,
# as the arguments the shell itself splits from that text.
. "$(dirname "$0")/tap.sh"
map_host

# The oracle: /bin/sh splits the text, the environment settings dropped
# (as tools/libvirt-argv.sh does), one argument a line.
shell_split() {
	sh -c 'eval "set -- $(cat "$1")"
	while [ $# -gt 0 ] && case $1 in *=*) true ;; *) false ;; esac; do shift; done
	printf "%s\n" "$@"' _ "$1"
}

# A name with a quote and a space: virsh writes -name 'guest=gpu'\''s vm,...'.
sed "s|<name>[^<]*</name>|<name>gpu's vm</name>|" "$QP2P_SRC/tests/fixtures/gpu4-domain.xml" > "$TMP/domain.xml"
for syntax in json legacy; do
	sh "$QP2P_SRC/tools/libvirt-native.sh" "$TMP/domain.xml" "$TMP/lv-$syntax" $syntax > "$TMP/$syntax.virsh" 2> "$TMP/$syntax.err"
	check "$syntax: virsh printed the command line with its environment first" grep -q '^LC_ALL=C PATH=' "$TMP/$syntax.virsh"
	[ -s "$TMP/$syntax.virsh" ] || diag "virsh said:" "$(cat "$TMP/$syntax.err")"
	check "$syntax: ... and shell quoting (the name's quote as '\\'')" grep -qF "guest=gpu'\\''s vm" "$TMP/$syntax.virsh"
	shell_split "$TMP/$syntax.virsh" > "$TMP/$syntax.args"
	mapfile -t args < "$TMP/$syntax.args"
	"$CLI" rewrite --explain -- "${args[@]}" > "$TMP/$syntax.want" 2> "$TMP/$syntax.want.log"
	"$CLI" rewrite --explain --virsh "$TMP/$syntax.virsh" > "$TMP/$syntax.out" 2> "$TMP/$syntax.log"
	check "$syntax: rewrite --virsh FILE prints what rewrite -- ARGS prints" cmp -s "$TMP/$syntax.want" "$TMP/$syntax.out"
	check "$syntax: ... and explains the same" cmp -s "$TMP/$syntax.want.log" "$TMP/$syntax.log"
	check "$syntax: the four GPUs got clique 0" \
		contains "$TMP/$syntax.log" "clique 0 = hostdev0 0000:43:00.0, hostdev2 0000:44:00.0, hostdev3 0000:47:00.0, hostdev4 0000:48:00.0 (map)"
	check "$syntax: the binary is the first argument, the environment gone" \
		sh -c "head -n 1 '$TMP/$syntax.out' | grep -qx '/usr/.*bin/qemu-system-x86_64'"
	"$CLI" rewrite --virsh - < "$TMP/$syntax.virsh" > "$TMP/$syntax.stdin" 2> /dev/null
	check "$syntax: --virsh - reads standard input" cmp -s "$TMP/$syntax.want" "$TMP/$syntax.stdin"
done

# libvirt's own test outputs: one argument a line, backslash-newline.
for f in "$QP2P_SRC"/tests/fixtures/thirdparty/libvirt/qemuxml2argvdata/*.args; do
	name=$(basename "$f")
	mapfile -t args < <(shell_split "$f")
	"$CLI" rewrite -- "${args[@]}" > "$TMP/want" 2> /dev/null
	"$CLI" rewrite --virsh "$f" > "$TMP/out" 2> /dev/null
	check "libvirt's $name (continuation lines): the same argv as the shell splits" cmp -s "$TMP/want" "$TMP/out"
done

printf "/usr/bin/qemu-system-x86_64 -name 'guest=vm\n" > "$TMP/bad"
"$CLI" rewrite --virsh "$TMP/bad" > /dev/null 2> "$TMP/bad.err"; rc=$?
check "unbalanced quoting: exit 1 and one line naming the file and why" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l < '$TMP/bad.err') -eq 1 ] && grep -q -- '--virsh $TMP/bad: cannot split it as the shell would' '$TMP/bad.err'"
"$CLI" rewrite --virsh "$TMP/bad" -- /usr/bin/qemu-system-x86_64 > /dev/null 2>&1; rc=$?
check "--virsh with QEMU-ARGS as well: usage error (64)" [ $rc -eq 64 ]
done_testing

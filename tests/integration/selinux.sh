#!/bin/bash
# The SELinux policy module of packaging/selinux built against Debian's
# reference policy headers (selinux-policy-dev), as an RPM or image build
# builds it: it compiles, its file contexts are valid expressions, name only
# types the reference policy declares (and the module requires), and label
# the paths install labels. A broken copy fails. Not enforced: no SELinux
# kernel or loaded policy here (packaging/selinux/README.md).
. "$(dirname "$0")/tap.sh"
DEVEL=/usr/share/selinux/devel
SE=$QP2P_SRC/packaging/selinux
for t in sefcontext_compile selabel_lookup semodule_unpackage; do
	if [ ! -f "$DEVEL/Makefile" ] || ! command -v $t > /dev/null; then
		skip "SELinux module" "no $DEVEL/Makefile or $t (make deps installs selinux-policy-dev)"
		done_testing; exit 0
	fi
done

# module DIR TE FC: DIR/qemu_p2p.pp built from TE and FC (the Makefile wants
# the module's name on both), its file contexts in DIR/fc.
module() {
	rm -rf "$1"; mkdir -p "$1"; cp "$2" "$1/qemu_p2p.te"; cp "$3" "$1/qemu_p2p.fc"
	make -C "$1" -f "$DEVEL/Makefile" qemu_p2p.pp > "$1/build.log" 2>&1 &&
		(cd "$1" && semodule_unpackage qemu_p2p.pp unpacked.mod unpacked.fc) &&
		grep '^/' "$1/unpacked.fc" > "$1/fc"
}
# regexes_ok DIR: libselinux compiles every path expression.
regexes_ok() { sefcontext_compile -o "$1/fc.bin" "$1/fc" 2> "$1/regex.log"; }
# types_known DIR: each type named is declared by the reference policy (its
# interfaces require it) and required by the module.
types_known() {
	local t bad=""
	for t in $(sed -n 's/.*:object_r:\([a-z0-9_]*\):.*/\1/p' "$1/fc" | sort -u); do
		grep -rqE "^\s*type ([a-z0-9_]+, )*$t[,;]" "$DEVEL/include" || bad="$bad $t (not in the reference policy)"
		grep -qE "type ([a-z0-9_]+, )*$t[,;]" "$1/qemu_p2p.te" || bad="$bad $t (not required by the module)"
	done
	[ -z "$bad" ] || diag "unknown types:$bad"
	[ -z "$bad" ]
}
# labels DIR PATH TYPE: the module's contexts give PATH the type TYPE.
labels() { selabel_lookup -b file -f "$1/fc" -k "$2" 2> /dev/null | grep -q ":object_r:$3:"; }

M=$TMP/module
check "the module builds against the reference policy headers ($DEVEL/Makefile)" module "$M" "$SE/qemu-p2p.te" "$SE/qemu-p2p.fc"
[ -s "$M/fc" ] || diag "$(tail -n 5 "$M/build.log")"
check "its file contexts are valid expressions (sefcontext_compile)" regexes_ok "$M"
check "its file contexts name only types the reference policy declares and the module requires" types_known "$M"
# What install labels (src/cli/confine.c) and svirt_t needs: the wrapper
# (shadow, divert, package), divert's real QEMU, both configuration files.
for p in /usr/local/bin/qemu-system-x86_64:qemu_exec_t /usr/bin/qemu-system-x86_64.real:qemu_exec_t \
	/usr/libexec/qemu-p2p/qemu-p2p-wrap:qemu_exec_t /etc/qemu-p2p.conf:virt_etc_t /etc/qemu-p2p.d/host.conf:virt_etc_t; do
	check "the module labels ${p%%:*} ${p#*:}" labels "$M" "${p%%:*}" "${p#*:}"
done

# Each check can fail.
B=$TMP/broken
printf 'policy_module(qemu_p2p, 1.0)\ngen_require(`\n\ttype qemu_exec_t\n'"')\n" > "$TMP/bad.te"
module "$B" "$TMP/bad.te" "$SE/qemu-p2p.fc"
check "a .te with a syntax error (a missing ';') does not build" [ $? -ne 0 ]
{ cat "$SE/qemu-p2p.fc"; printf '/etc/qemu-p2p[\\.conf\t--\tgen_context(system_u:object_r:virt_etc_t,s0)\n'; } > "$TMP/bad.fc"
module "$B" "$SE/qemu-p2p.te" "$TMP/bad.fc" && ! regexes_ok "$B"
check "a file context with an unbalanced '[' is refused" [ $? -eq 0 ]
sed 's/virt_etc_t/virt_etcc_t/' "$SE/qemu-p2p.fc" > "$TMP/bad.fc"
module "$B" "$SE/qemu-p2p.te" "$TMP/bad.fc" && ! types_known "$B" > /dev/null
check "a file context naming a type the policy lacks (virt_etcc_t) is refused" [ $? -eq 0 ]
sed 's/qemu_exec_t/bin_t/' "$SE/qemu-p2p.fc" > "$TMP/bad.fc"
module "$B" "$SE/qemu-p2p.te" "$TMP/bad.fc" && ! labels "$B" /usr/local/bin/qemu-system-x86_64 qemu_exec_t
check "a module labelling the wrapper bin_t is refused (svirt_t could not enter it)" [ $? -eq 0 ]
done_testing

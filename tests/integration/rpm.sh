#!/bin/bash
# The RPM spec built by make rpm's recipe (tools/package.sh rpm) with
# Debian's rpmbuild, so the spec cannot rot unseen; its packages hold what
# the .debs hold; rpmlint reports nothing that packaging/rpm/qemu-p2p.rpmlintrc
# does not filter with a reason. Needs no root.
. "$(dirname "$0")/tap.sh"
for t in rpmbuild git; do
	command -v "$t" > /dev/null || { skip "rpm" "$t missing (make deps installs it)"; done_testing; exit 0; }
done

meson_v=$(sed -n "s/^ *version : '\([^']*\)',*$/\1/p" "$QP2P_SRC/meson.build" | head -n 1)
spec_v=$(sed -n 's/^Version: *//p' "$QP2P_SRC/packaging/rpm/qemu-p2p.spec")
deb_v=$(sed -n '1s/^qemu-p2p (\([^)-]*\).*/\1/p' "$QP2P_SRC/packaging/debian/changelog")
same() { [ "$1" = "$2" ] && [ "$1" = "$3" ]; }
check "meson.build ($meson_v), the spec ($spec_v) and debian/changelog ($deb_v) name one version" \
	same "$meson_v" "$spec_v" "$deb_v"

sh "$QP2P_SRC/tools/package.sh" rpm "$TMP/pkg" > "$TMP/build.log" 2>&1
HOST=$(ls "$TMP"/pkg/rpm/qemu-p2p-[0-9]*.rpm 2> /dev/null | head -n 1)
GUEST=$(ls "$TMP"/pkg/rpm/qemu-p2p-guest-[0-9]*.rpm 2> /dev/null | head -n 1)
check "make rpm's recipe builds the host and guest packages" [ -n "$HOST" -a -n "$GUEST" ]
if [ -z "$HOST" ] || [ -z "$GUEST" ]; then
	diag "$(tail -n 30 "$TMP/build.log")"
	done_testing; exit 1
fi
rpm -qlp "$HOST" > "$TMP/host.list" 2> /dev/null
rpm -qlp "$GUEST" > "$TMP/guest.list" 2> /dev/null
for f in /usr/bin/qemu-p2p /usr/libexec/qemu-p2p/qemu-p2p-wrap /usr/share/man/man8/qemu-p2p.8 \
	/usr/share/qemu-p2p/example/qemu-p2p.conf /usr/share/qemu-p2p/example/sys/bus/pci/devices/0000:05:00.0; do
	check "the host package holds $f" grep -qx "$f" "$TMP/host.list"
done
check "the host package ships no /etc/qemu-p2p.conf and no guest program" \
	sh -c "! grep -e '^/etc/qemu-p2p.conf' -e p2pbench -e qemu-p2p-guest '$TMP/host.list'"
for f in /usr/bin/qemu-p2p-guest /usr/bin/p2pbench /usr/lib/systemd/system/qemu-p2p-guest-topology.service \
	/usr/lib/systemd/system-preset/90-qemu-p2p-guest.preset; do
	check "the guest package holds $f" grep -qx "$f" "$TMP/guest.list"
done
check "the scriptlets call the CLI where the package puts it" \
	sh -c "rpm -qp --scripts --triggers '$HOST' 2> /dev/null | grep -q /usr/bin/qemu-p2p && ! rpm -qp --scripts --triggers '$HOST' 2> /dev/null | grep -q /usr/sbin/qemu-p2p"

if command -v rpmlint > /dev/null; then
	rpmlint -r "$QP2P_SRC/packaging/rpm/qemu-p2p.rpmlintrc" "$HOST" "$GUEST" "$QP2P_SRC/packaging/rpm/qemu-p2p.spec" \
		> "$TMP/rpmlint" 2>&1
	grep -E ': [EW]: ' "$TMP/rpmlint" > "$TMP/rpmlint.ew"
	check "rpmlint: no error or warning beyond the filtered ones" [ ! -s "$TMP/rpmlint.ew" ]
	[ ! -s "$TMP/rpmlint.ew" ] || diag "$(cat "$TMP/rpmlint.ew")"
else
	skip "rpmlint" "rpmlint missing (make deps installs it)"
fi
done_testing

#!/bin/bash
# The man pages were built by scdoc and render, and qemu-p2p.conf(5) names
# every key the parser knows. Options against --help, both ways: docs.py.
. "$(dirname "$0")/tap.sh"
for p in qemu-p2p.8 qemu-p2p-wrap.8 qemu-p2p.conf.5 p2pbench.1 qemu-p2p-guest.1; do
	if [ -f "$QP2P_BUILD/man/$p" ]; then
		check "$p: built by scdoc and renders" sh -c "man -l '$QP2P_BUILD/man/$p' 2> /dev/null | grep -q NAME"
	else
		not_ok "$p: not built (is scdoc installed? make deps installs it)"
	fi
done
keys=$(grep -oE '^\s*\{ "[a-z]+", "[a-z_0-9]+"' "$QP2P_SRC/src/lib/config.c" | awk -F'"' '{ print $4 }')
missing=""
for k in $keys; do grep -qF "*$k*" "$QP2P_SRC/man/qemu-p2p.conf.5.scd" || missing="$missing $k"; done
check "qemu-p2p.conf(5) documents every key the parser knows${missing:+ (missing:$missing)}" [ -z "$missing" ]
done_testing

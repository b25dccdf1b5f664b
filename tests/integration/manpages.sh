#!/bin/bash
# Every option each command's --help lists appears in qemu-p2p(8), and the
# man pages were built by scdoc and render.
. "$(dirname "$0")/tap.sh"
MAN=$QP2P_SRC/man/qemu-p2p.8.scd
cmds=$("$CLI" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { on = 0 }')
check "qemu-p2p --help lists commands" [ -n "$cmds" ]
for c in $cmds; do
	missing=""
	# Option lines of --help: indented, starting with - or --.
	for o in $("$CLI" "$c" --help | grep -E '^ +-' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		case $o in --help) continue ;; esac
		grep -qF -- "*$o*" "$MAN" || missing="$missing $o"
	done
	check "qemu-p2p $c: every --help option is in qemu-p2p(8)${missing:+ (missing:$missing)}" [ -z "$missing" ]
	check "qemu-p2p $c: the command has its entry in qemu-p2p(8)" grep -q "^\*$c\*" "$MAN"
done
missing=""
for o in $("$QP2P_BUILD/src/p2pbench/p2pbench" --help | grep -E '^ +-' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
	grep -qF -- "*$o*" "$QP2P_SRC/man/p2pbench.1.scd" || missing="$missing $o"
done
check "p2pbench: every --help option is in p2pbench(1)${missing:+ (missing:$missing)}" [ -z "$missing" ]
GUEST=$QP2P_BUILD/src/guest/qemu-p2p-guest
for c in $("$GUEST" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { on = 0 }'); do
	missing=""
	[ "$c" = help ] && continue # the top-level usage, whose options the SYNOPSIS names
	for o in $("$GUEST" "$c" --help | grep -E '^ +-' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		case $o in --help) continue ;; esac
		grep -qF -- "*$o*" "$QP2P_SRC/man/qemu-p2p-guest.1.scd" || missing="$missing $o"
	done
	check "qemu-p2p-guest $c: every --help option is in qemu-p2p-guest(1)${missing:+ (missing:$missing)}" [ -z "$missing" ]
done
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

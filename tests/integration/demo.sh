#!/bin/bash
# make demo runs to its end, and the commands it says to type next work on
# the tree it leaves (doctor may warn: exit 1; nothing may fail).
. "$(dirname "$0")/tap.sh"
sh "$QP2P_SRC/tools/demo.sh" "$QP2P_BUILD" > "$TMP/demo" 2>&1
rc=$?
check "make demo (tools/demo.sh) runs to its end" [ $rc -eq 0 ]
[ $rc -eq 0 ] || diag "$(tail -n 20 "$TMP/demo")"
sed -n '/^== Next:/,$p' "$TMP/demo" | grep '^   qemu-p2p ' | sed 's/^   //' > "$TMP/next"
check "it ends with the qemu-p2p commands to type next" [ "$(wc -l < "$TMP/next")" -ge 4 ]
alias_line=$(grep -m 1 '^   alias qemu-p2p=' "$TMP/demo" | sed 's/^   alias qemu-p2p=//')
check "... and how to reach the built qemu-p2p" [ -x "$alias_line" ]
cd "$QP2P_SRC" || exit 1
while IFS= read -r line; do
	# The line as printed, with the alias expanded; its redirections kept.
	sh -c "${line/#qemu-p2p/$alias_line}" > "$TMP/out" 2>&1
	rc=$?
	case $line in "qemu-p2p doctor "*) ok_rc="0 1" ;; *) ok_rc=0 ;; esac
	check "next: '$line' works (exit $rc)" sh -c "echo ' $ok_rc ' | grep -q ' $rc '"
	case " $ok_rc " in *" $rc "*) ;; *) diag "$(tail -n 5 "$TMP/out")" ;; esac
done < "$TMP/next"
done_testing

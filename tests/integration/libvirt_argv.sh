#!/bin/bash
# Argv that real libvirt generates (virsh domxml-to-native with the embedded
# QEMU driver, no daemon), JSON and legacy: the wrapper changes exactly the
# GPU arguments, each in the expected spot, and nothing else.
. "$(dirname "$0")/tap.sh"
map_host

for syntax in json legacy; do
	sh "$QP2P_SRC/tools/libvirt-argv.sh" "$QP2P_SRC/tests/fixtures/gpu4-domain.xml" "$TMP/lv-$syntax" \
		"$([ $syntax = legacy ] && echo legacy)" > "$TMP/$syntax.in"
	check "$syntax: libvirt generated an argv with five vfio-pci devices" \
		[ "$(grep -c '"driver":"vfio-pci"\|^vfio-pci,' "$TMP/$syntax.in")" -eq 5 ]
	mapfile -t in < "$TMP/$syntax.in"
	"$CLI" rewrite --explain -- "${in[@]}" > "$TMP/$syntax.out" 2> "$TMP/$syntax.log"
	check "$syntax: same number of arguments" [ "$(wc -l < "$TMP/$syntax.in")" -eq "$(wc -l < "$TMP/$syntax.out")" ]
	diff "$TMP/$syntax.in" "$TMP/$syntax.out" | grep '^>' > "$TMP/$syntax.changed"
	check "$syntax: exactly the four GPU arguments changed" [ "$(wc -l < "$TMP/$syntax.changed")" -eq 4 ]
	# Each changed line is its original with the property at the end.
	paste -d '\n' <(diff "$TMP/$syntax.in" "$TMP/$syntax.out" | grep '^<' | cut -c3-) \
		<(cut -c3- "$TMP/$syntax.changed") > "$TMP/$syntax.pairs"
	good=1
	while IFS= read -r before && IFS= read -r after; do
		if [ $syntax = json ]; then want="${before%\}},\"x-nv-gpudirect-clique\":0}"; else want="$before,x-nv-gpudirect-clique=0"; fi
		[ "$after" = "$want" ] || { diag "got  $after" "want $want"; good=0; }
	done < "$TMP/$syntax.pairs"
	check "$syntax: each GPU argument is the original plus the property" [ $good = 1 ]
	check "$syntax: the audio function is skipped and logged" \
		contains "$TMP/$syntax.log" "hostdev1 0000:43:00.1 (class 0x040300 is not a display function)"
done
done_testing

#!/bin/bash
# Bad input to the wrapper: each case must start QEMU (a recording stand-in)
# with the original argv, or the expected one, and say clearly why. Each row
# is printed as "# input -> observed" for the closing note.
. "$(dirname "$0")/tap.sh"
export RECORD=$TMP/rec QEMU_P2P_SYSFS=$TMP/sys QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf
host c8-free-gpus "$TMP/sys"
mkdir -p "$TMP/bin"
# A copy the VM's user can run even when the checkout sits below a
# directory only root may enter (mktemp -d, dpkg-buildpackage there).
RECORDER=$TMP/bin/recorder.sh
cp "$QP2P_SRC/tests/integration/recorder.sh" "$RECORDER"
cp "$WRAP" "$TMP/bin/qemu-system-x86_64"
W=$TMP/bin/qemu-system-x86_64
GOOD_MAP='[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0'
GPU0='{"driver":"vfio-pci","host":"0000:43:00.0","id":"hostdev0"}'
GPU1='vfio-pci,host=0000:44:00.0,id=hostdev1'
ARGS=(-name guest=vm1 -device "$GPU0" -device "$GPU1")

facts() { # facts VERSION [HOST LINES]: current facts for the recorder
	mkdir -p "$TMP/etc/qemu-p2p.d"
	printf '[qemu]\nbinary = %s\nversion = %s\nidentity = %s\n%s\n' "$RECORDER" "$1" \
		"$(stat -c '%d:%i:%s:%Y' "$RECORDER")" "${2:-}" > "$TMP/etc/qemu-p2p.d/host.conf"
}

recorded() { tr '\0' ' ' < "$RECORD.args"; }
unchanged() { [ "$(recorded)" = "$(printf '%s ' "${USED[@]}")" ]; }
injected() { grep -q x-nv-gpudirect-clique "$RECORD.args"; }

# row NAME EXPECT(unchanged|injected) MESSAGE [WRAPPER ARGS...]
row() {
	local name=$1 expect=$2 msg=$3
	shift 3
	rm -f "$RECORD".*
	if [ $# -gt 0 ]; then USED=("$@"); else USED=("${ARGS[@]}"); fi
	# A hang is a failure: no input may keep a VM from starting.
	timeout 10 "$W" "${USED[@]}" 2> "$TMP/log"
	if [ $? -eq 124 ]; then not_ok "$name: the wrapper hung (killed after 10 s)"; return; fi
	diag "$name -> $(if injected; then echo injected; else echo unchanged; fi); $(head -c 300 "$TMP/log" | tr '\n' '|')"
	if [ ! -e "$RECORD.args" ]; then not_ok "$name: QEMU was not started"; return; fi
	if [ "$expect" = unchanged ]; then check "$name: QEMU starts with the original argv" unchanged
	else check "$name: QEMU starts with cliques" injected; fi
	check "$name: the log says: $msg" contains "$TMP/log" "$msg"
}

op() { config "$TMP/etc" "[qemu]
binary = $RECORDER
$1"; }

facts 8.2.2
op "$GOOD_MAP"
row "good configuration" injected "clique 0 = hostdev0 0000:43:00.0, hostdev1 0000:44:00.0 (map)"

rm "$TMP/etc/qemu-p2p.conf"
printf '[qemu]\nbinary = %s\n' "$RECORDER" > /dev/null
row "no operator file (defaults: mode auto, AMD host bridge)" injected "(auto, NODE)"
op "$GOOD_MAP"

mv "$TMP/etc/qemu-p2p.d/host.conf" "$TMP/host.saved"
row "no host file" unchanged 'no host facts in'
mv "$TMP/host.saved" "$TMP/etc/qemu-p2p.d/host.conf"

chmod 664 "$TMP/etc/qemu-p2p.conf"
row "group-writable operator file" unchanged "writable by group or others (chmod 644 it); file ignored"
chmod 644 "$TMP/etc/qemu-p2p.conf"

chown nobody "$TMP/etc/qemu-p2p.conf"
row "operator file not owned by root" unchanged "not owned by root"
chown root "$TMP/etc/qemu-p2p.conf"

ln -s "$TMP/etc/qemu-p2p.conf" "$TMP/etc/link.conf"
QEMU_P2P_CONFIG=$TMP/etc/link.conf row "operator file is a symlink" unchanged "is a symbolic link"

# Unreadable for the VM's user: run the wrapper as nobody with a 0600 file.
chmod 600 "$TMP/etc/qemu-p2p.conf"
chmod 755 "$TMP" "$TMP/etc" "$TMP/bin"
mkdir -m 1777 "$TMP/pub"
setpriv --reuid nobody --regid nogroup --clear-groups env RECORD="$TMP/pub/rec" "$W" "${ARGS[@]}" 2> "$TMP/log"
diag "config unreadable by the VM user -> $(tr '\n' '|' < "$TMP/log")"
check "unreadable operator file: QEMU starts unchanged" [ "$(tr '\0' ' ' < "$TMP/pub/rec.args")" = "$(printf '%s ' "${ARGS[@]}")" ]
check "unreadable operator file: the log says Permission denied" contains "$TMP/log" "qemu-p2p.conf: Permission denied"
chmod 644 "$TMP/etc/qemu-p2p.conf"

op "$GOOD_MAP
abc = 0000:47:00.0"
row "map label abc" unchanged "qemu-p2p.conf:7: [map] label 'abc': use a number from 0 to 9999"
op "$GOOD_MAP
-1 = 0000:47:00.0"
row "map label -1" unchanged "[map] label '-1'"
op "$GOOD_MAP
1 = 0000:44:00.0"
row "an address in two groups" unchanged "qemu-p2p.conf:7: 0000:44:00.0 is in group 0 and in group 1"
op "$GOOD_MAP 0000:4g:00.0"
row "a malformed address" unchanged "'0000:4g:00.0' is not a PCI address"
op "$GOOD_MAP $(printf '0000:47:00.0 %.0s' $(seq 15))"
row "a line of 200+ characters" unchanged "qemu-p2p.conf:6: line is"
op "$GOOD_MAP
[cliques]
flavour = strawberry"
row "an unknown key warns and still injects" injected "unknown key 'flavour' in [cliques], ignored"
op "[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:43:00.1"
row "a map address that is not a display function" unchanged "hostdev1 0000:43:00.1 (class 0x040300 is not a display function)" \
	-device "$GPU0" -device vfio-pci,host=0000:43:00.1,id=hostdev1
op "$GOOD_MAP"
row "malformed JSON in -device" injected "untouched (malformed JSON)" \
	-device "$GPU0" -device "$GPU1" -device '{"driver":"vfio-pci","host":"0000:47:00.0"'
row "a duplicate key in -device" injected "untouched (a duplicate key in the JSON object)" \
	-device "$GPU0" -device "$GPU1" -device '{"driver":"vfio-pci","host":"0000:47:00.0","host":"0000:48:00.0"}'
facts 8.2.2
touch -d '2020-01-01' "$TMP/etc/qemu-p2p.d/host.conf"
cp "$RECORDER" "$TMP/bin/newer-qemu"
op "[qemu]
binary = $TMP/bin/newer-qemu
$GOOD_MAP"
row "stale facts (the real QEMU changed)" unchanged 'host facts are stale for'
op "$GOOD_MAP"

# QEMU 7.2 facts and a GPU whose capability sits at 0xC8 (c8_free lists
# only the other one).
facts 7.2.22 "[gpus]
c8_free = 0000:43:00.0"
row "QEMU 7.2, a GPU with a capability at 0xC8" unchanged \
	"hostdev1 0000:44:00.0 (QEMU 7.2.22 would refuse it: a capability covers 0xC8, not in c8_free)"
facts 7.2.22 "[gpus]
c8_free = 0000:43:00.0 0000:44:00.0"
row "QEMU 7.2, c8_free from before card ids (no id to check the card against)" unchanged \
	"hostdev1 0000:44:00.0 (QEMU 7.2.22 puts the clique at 0xC8, and c8_free has no card ids (an older host file); run qemu-p2p refresh)"
facts 7.2.22 "[gpus]
c8_free = 0000:43:00.0/10de:2330:0000:0000:00000000 0000:44:00.0/10de:2330:0000:0000:00000000"
row "QEMU 7.2, c8_free measured on other cards (link digests differ)" unchanged \
	"hostdev1 0000:44:00.0 (QEMU 7.2.22 puts the clique at 0xC8, and c8_free was measured on another card here"
facts 7.2.22 "[gpus]
c8_free = 0000:43:00.0/10DE:2330"
row "QEMU 7.2, a c8_free id in capitals (not written by refresh)" unchanged \
	"c8_free: '0000:43:00.0/10DE:2330' is not ADDRESS/ID; run qemu-p2p refresh to write this file again"
facts 8.2.2
op "$GOOD_MAP"

# What operators write (issue 23): each of these once rejected the file.
op "[cliques]
  mode = map
  level = PHB
[map]
0 = 0000:43:00.0 0000:44:00.0"
row "an indented key right under its [section] header" injected "clique 0 = hostdev0 0000:43:00.0, hostdev1 0000:44:00.0 (map)"
op "[cliques]
mode = map    # the operator's note
[map]
0 = 0000:43:00.0 # first GPU
    0000:44:00.0 ; second GPU"
row "'#' and ';' comments after a value and on a [map] line" injected "clique 0 = hostdev0 0000:43:00.0, hostdev1 0000:44:00.0 (map)"
op "[CLIQUES]
Mode = map
[MAP]
0 = 0000:43:00.0 0000:44:00.0"
row "[MAP] and Mode = (names in any case)" injected "clique 0 = hostdev0 0000:43:00.0, hostdev1 0000:44:00.0 (map)"
op "[cliques]
mode = off
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0"
row "a key written twice: warns, the last value wins" injected "qemu-p2p.conf:5: 'mode' set again; the last value wins"
op "$GOOD_MAP 0000:4g:00.0"
row "a malformed address: the hint names the wrong part" unchanged "'0000:4g:00.0' is not a PCI address: bus '4g' is not a hex number"
op "$GOOD_MAP 10000:05:00.0"
row "a VMD domain address (10000:05:00.0) is an address" injected "clique 0 = hostdev0 0000:43:00.0, hostdev1 0000:44:00.0 (map)"
op "$GOOD_MAP"
row "-readconfig: its devices are not seen, said once" injected "devices in /etc/pve-q35.cfg are not seen (-readconfig)" \
	-readconfig /etc/pve-q35.cfg "${ARGS[@]}"

# A FIFO, a socket, a character device (/dev/zero's, /dev/tty's numbers)
# or a directory where the wrapper reads a file: refused without blocking,
# one line says why, QEMU starts (a hang is killed after 10 s and fails).
special() { # special KIND PATH
	rm -rf "$2"
	case $1 in
	FIFO) mkfifo -m 644 "$2" ;;
	socket) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$2" ;;
	"character device 1:5") mknod -m 644 "$2" c 1 5 ;;
	"character device 5:0") mknod -m 644 "$2" c 5 0 ;;
	directory) mkdir -m 755 "$2" ;;
	esac
}
ATTRS=$TMP/sys/bus/pci/devices/0000:44:00.0
cp "$TMP/etc/qemu-p2p.conf" "$TMP/op.saved"; cp "$TMP/etc/qemu-p2p.d/host.conf" "$TMP/host.saved"
cp "$ATTRS/modalias" "$TMP/modalias.saved"
for kind in FIFO socket "character device 1:5" "character device 5:0" directory; do
	if [ "$kind" != FIFO ] && [ "$kind" != directory ] && [ "$(id -u)" != 0 ]; then
		skip "a $kind as a configuration file" "mknod and this socket need root"; continue
	fi
	special "$kind" "$TMP/etc/qemu-p2p.conf"
	row "a $kind as the operator file" unchanged "qemu-p2p.conf: not a regular file; file ignored"
	rm -f "$RECORD".*
	timeout 10 "$W" -version 2> "$TMP/log"; rc=$?
	check "a $kind as the operator file: the -version probe returns and reaches QEMU" \
		sh -c "[ $rc -ne 124 ] && [ \"\$(tr '\0' ' ' < '$RECORD.args')\" = '-version ' ]"
	timeout 10 "$CLI" doctor --sysfs "$TMP/sys" > "$TMP/out" 2>&1
	check "a $kind as the operator file: doctor returns and says so" contains "$TMP/out" "not a regular file"
	rm -rf "$TMP/etc/qemu-p2p.conf"; cp "$TMP/op.saved" "$TMP/etc/qemu-p2p.conf"
	special "$kind" "$TMP/nvsmi.txt"
	timeout 10 "$CLI" plan --sysfs "$TMP/sys" --from-nvidia-smi "$TMP/nvsmi.txt" > "$TMP/out" 2>&1
	check "a $kind given to plan --from-nvidia-smi: refused, not read" contains "$TMP/out" "nvsmi.txt: not a regular file"
	rm -rf "$TMP/nvsmi.txt"
	special "$kind" "$TMP/etc/qemu-p2p.d/host.conf"
	row "a $kind as the host file" unchanged "host.conf: not a regular file; file ignored"
	rm -rf "$TMP/etc/qemu-p2p.d/host.conf"; cp "$TMP/host.saved" "$TMP/etc/qemu-p2p.d/host.conf"
	special "$kind" "$ATTRS/modalias"
	row "a $kind as a GPU's sysfs modalias" unchanged "hostdev1 0000:44:00.0 ("
	check "a $kind as a GPU's sysfs modalias: the log says it is not a regular file" \
		contains "$TMP/log" "not a regular file"
	rm -rf "$ATTRS/modalias"; cp "$TMP/modalias.saved" "$ATTRS/modalias"
done

# Sizes and shapes of argv (issue 5's matrix).
mapfile -t MANY < <(yes -- '-S' | head -n 100000)
row "argv with 100,000 arguments" injected "clique 0 = hostdev0 0000:43:00.0" "${ARGS[@]}" "${MANY[@]}"
big=$(head -c 100000 /dev/zero | tr '\0' x)
row "a 100 KiB -device value (near the kernel's 128 KiB per argument)" injected "clique 0 = ${big:0:64}... 0000:43:00.0" \
	-device "{\"driver\":\"vfio-pci\",\"host\":\"0000:43:00.0\",\"id\":\"$big\"}" -device "$GPU1"
deep="$(printf '[%.0s' $(seq 10000))$(printf ']%.0s' $(seq 10000))"
row "JSON nested 10,000 deep in a -device" injected "untouched (malformed JSON)" \
	-device "$GPU0" -device "$GPU1" -device "{\"driver\":\"vfio-pci\",\"host\":\"0000:47:00.0\",\"x\":$deep}"
row "invalid UTF-8 in a legacy id (bytes kept)" injected "$(printf 'hostdev\377\376')" \
	-device "$GPU0" -device "$(printf 'vfio-pci,host=0000:44:00.0,id=hostdev\377\376')"
check "invalid UTF-8: the bytes reach QEMU unchanged" grep -qa "$(printf 'id=hostdev\377\376,x-nv-gpudirect-clique=0')" "$RECORD.args"
row "-device as the last argument (no value)" injected "clique 0" "${ARGS[@]}" -device
row "an empty -device value and empty arguments" injected "clique 0" "${ARGS[@]}" -device "" "" ""
row "vfio-pci without host, sysfsdev or fd" injected "clique 0" "${ARGS[@]}" -device vfio-pci,id=nohost
row "host= empty" injected "clique 0" "${ARGS[@]}" -device vfio-pci,host=,id=empty

# sysfs anomalies: the wrapper reads the VM's GPUs' identity from modalias
# (one read of what the kernel cached), else from the vendor and class files;
# never from config space, which on a real host goes to the device.
printf 'pci:v000010DEd00002330sv00000000sd0000XYZbc03sc02i00\n' > "$ATTRS/modalias"
row "a GPU whose modalias is garbled" unchanged "hostdev1 0000:44:00.0 (identity unreadable (sysfs modalias, or vendor/device/class): Invalid argument)"
rm "$ATTRS/modalias"
row "a GPU without modalias (an older capture): vendor and class files instead" injected "hostdev1 0000:44:00.0"
mv "$ATTRS/class" "$TMP/class.saved"
row "a GPU without modalias and without class" unchanged "hostdev1 0000:44:00.0 (identity unreadable (sysfs modalias, or vendor/device/class): No such file"
mv "$TMP/class.saved" "$ATTRS/class"; cp "$TMP/modalias.saved" "$ATTRS/modalias"
mv "$ATTRS/config" "$TMP/config.saved"
row "a GPU without its config file (not read at start)" injected "hostdev1 0000:44:00.0"
mv "$TMP/config.saved" "$ATTRS/config"
chmod 000 "$ATTRS/modalias"
setpriv --reuid nobody --regid nogroup --clear-groups env RECORD="$TMP/pub/rec" "$W" "${ARGS[@]}" 2> "$TMP/log"
diag "unreadable modalias (VM user) -> $(tr '\n' '|' < "$TMP/log")"
check "modalias unreadable by the VM user: QEMU starts unchanged, the log says why" \
	sh -c "! grep -q x-nv-gpudirect-clique '$TMP/pub/rec.args' && grep -q 'identity unreadable (sysfs modalias, or vendor/device/class): Permission denied' '$TMP/log'"
chmod 444 "$ATTRS/modalias"
mv "$TMP/sys/bus/pci/devices/0000:44:00.0" "$TMP/link.saved"
ln -s "0000:44:00.0" "$TMP/sys/bus/pci/devices/0000:44:00.0"
row "a symlink loop where a GPU should be" unchanged "hostdev1 0000:44:00.0"
rm "$TMP/sys/bus/pci/devices/0000:44:00.0"
ln -s ../../../devices/pci0000:40/gone "$TMP/sys/bus/pci/devices/0000:44:00.0"
row "a GPU that disappeared (dangling link)" unchanged "hostdev1 0000:44:00.0"
rm "$TMP/sys/bus/pci/devices/0000:44:00.0"; mv "$TMP/link.saved" "$TMP/sys/bus/pci/devices/0000:44:00.0"

# The configured real binary is not executable: the next QEMU runs (the
# packaged one here, asked only for -version), and the log says so.
chmod 644 "$TMP/bin/newer-qemu"
op "[qemu]
binary = $TMP/bin/newer-qemu
$GOOD_MAP"
"$W" -version > "$TMP/out" 2> "$TMP/log"; rc=$?
diag "[qemu] binary not executable -> exit $rc; $(head -n 1 "$TMP/out"); $(tr '\n' '|' < "$TMP/log")"
check "[qemu] binary not executable: the packaged QEMU answers" sh -c "[ $rc -eq 0 ] && grep -q 'QEMU emulator version' '$TMP/out'"
check "[qemu] binary not executable: the log says so" contains "$TMP/log" "[qemu] binary $TMP/bin/newer-qemu is not an executable file"
done_testing

#!/bin/bash
# qemu-p2p-wrap end to end with a recording stand-in for QEMU: same PID,
# inherited descriptors kept, nothing on stdout, argv as `qemu-p2p rewrite`
# computes it, and the original argv on every failure path.
. "$(dirname "$0")/tap.sh"
RECORDER=$QP2P_SRC/tests/integration/recorder.sh
export RECORD=$TMP/rec QEMU_P2P_SYSFS=$TMP/sys QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf
host c8-free-gpus "$TMP/sys"
mkdir -p "$TMP/bin"
cp "$WRAP" "$TMP/bin/qemu-system-x86_64"
W=$TMP/bin/qemu-system-x86_64
config "$TMP/etc" "[qemu]
binary = $RECORDER
[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0"
"$CLI" refresh --qemu "$RECORDER" > /dev/null 2>&1 || true
# The recorder prints no version: write current facts for it by hand,
# as refresh would for a QEMU >= 8.1.
printf '[qemu]\nbinary = %s\nversion = 8.2.2\nidentity = %s\n' "$RECORDER" \
	"$(stat -c '%d:%i:%s:%Y' "$RECORDER")" > "$TMP/etc/qemu-p2p.d/host.conf"

GPU0='{"driver":"vfio-pci","host":"0000:43:00.0","id":"hostdev0","bus":"pci.2","addr":"0x0"}'
GPU1='vfio-pci,host=44:00.0,id=hostdev1'
ARGS=(-name guest=vm1 -device "$GPU0" -device "$GPU1" -chardev socket,id=charmonitor,fd=7)

args_equal() { # args_equal EXPECTED...: the recorder saw exactly these
	local want
	want=$(printf '%s\0' "$@" | od -c)
	[ "$want" = "$(od -c < "$RECORD.args")" ] || { diag "recorded: $(tr '\0' ' ' < "$RECORD.args")"; return 1; }
}

# 1. rewritten argv, same PID, fd 7 inherited, stdout empty
rm -f "$RECORD".*
"$W" "${ARGS[@]}" 7< /dev/null > "$TMP/stdout" 2> "$TMP/stderr" &
pid=$!
wait $pid
check "exec in place: the QEMU process has the wrapper's PID" [ "$(cat "$RECORD.pid")" = "$pid" ]
check "inherited descriptor 7 is still open in QEMU" grep -qx 7 "$RECORD.fds"
check "nothing is written on stdout" [ ! -s "$TMP/stdout" ]
mapfile -d '' want < <("$CLI" rewrite -0 -- "$W" "${ARGS[@]}" | tail -c +1)
check "QEMU got the argv 'qemu-p2p rewrite' prints (minus argv[0])" args_equal "${want[@]:1}"
check "both GPUs got clique 0" args_equal -name guest=vm1 -device "${GPU0%\}},\"x-nv-gpudirect-clique\":0}" \
	-device "$GPU1,x-nv-gpudirect-clique=0" -chardev socket,id=charmonitor,fd=7
check "one log line on stderr names the clique" contains "$TMP/stderr" "qemu-p2p: clique 0 = hostdev0 0000:43:00.0, hostdev1 0000:44:00.0 (map)"
check "exactly one line on stderr" [ "$(wc -l < "$TMP/stderr")" -eq 1 ]

# 2. a bad configuration: original argv, one line saying file:line
config "$TMP/etc" "[qemu]
binary = $RECORDER
[map]
x = 43:00.0"
"$W" "${ARGS[@]}" 2> "$TMP/stderr"
check "bad config: QEMU starts with the original argv" args_equal "${ARGS[@]}"
check "bad config: the log says file and line" contains "$TMP/stderr" "qemu-p2p.conf:4: [map] label 'x'"
QEMU_P2P_SYSFS=$TMP/no-sysfs "$W" "${ARGS[@]}" 2> "$TMP/stderr"
check "bad config and no sysfs (a confinement without our rules): the log names the configuration first" \
	sh -c "grep -q 'qemu-p2p: configuration rejected: .*qemu-p2p.conf:4:' '$TMP/stderr' && [ \$(wc -l < '$TMP/stderr') = 1 ]"

# 3. a capability probe passes through silently
"$W" -S -no-user-config -nodefaults -nographic -machine none,accel=kvm:tcg -qmp unix:/x,server=on,wait=off \
	-pidfile /p -daemonize 2> "$TMP/stderr"
check "probe: argv untouched" args_equal -S -no-user-config -nodefaults -nographic -machine none,accel=kvm:tcg \
	-qmp unix:/x,server=on,wait=off -pidfile /p -daemonize
check "probe: nothing logged" [ ! -s "$TMP/stderr" ]

# 3b. A Proxmox start is a VM start, not a probe: `qm showcmd` shape, with
#     -daemonize, a QMP monitor, -pidfile and -readconfig.
PVE=(-id 100 -name vm100,debug-threads=on -no-shutdown
	-chardev socket,id=qmp,path=/var/run/qemu-server/100.qmp,server=on,wait=off -mon chardev=qmp,mode=control
	-pidfile /var/run/qemu-server/100.pid -daemonize -readconfig /usr/share/qemu-server/pve-q35-4.0.cfg
	-device vfio-pci,host=0000:43:00.0,id=hostpci0,bus=ich9-pcie-port-1,addr=0x0
	-device vfio-pci,host=0000:44:00.0,id=hostpci1,bus=ich9-pcie-port-2,addr=0x0 -machine type=q35+pve0)
config "$TMP/etc" "[qemu]
binary = $RECORDER
[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0"
rm -f "$RECORD".*
"$W" "${PVE[@]}" 2> "$TMP/stderr"
check "Proxmox start (-daemonize): both GPUs got clique 0" args_equal "${PVE[@]:0:14}" \
	-device "${PVE[15]},x-nv-gpudirect-clique=0" -device "${PVE[17]},x-nv-gpudirect-clique=0" -machine type=q35+pve0
check "Proxmox start: the log names the cliques and the -readconfig file" contains "$TMP/stderr" \
	"clique 0 = hostpci0 0000:43:00.0, hostpci1 0000:44:00.0 (map); devices in /usr/share/qemu-server/pve-q35-4.0.cfg are not seen (-readconfig)"

# 4. exec of the rewritten argv fails with E2BIG (one argument over the
#    kernel's 128 KiB per-string limit once spliced): the original runs.
config "$TMP/etc" "[qemu]
binary = $RECORDER
[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0"
HEAD='{"driver":"vfio-pci","host":"0000:43:00.0","id":"hostdev0","romfile":"/'
pad=$(head -c $((131060 - ${#HEAD} - 2)) /dev/zero | tr '\0' a)
BIG="$HEAD$pad\"}"
"$W" -device "$BIG" -device "$GPU1" 2> "$TMP/stderr"
check "E2BIG: QEMU starts with the original argv" args_equal -device "$BIG" -device "$GPU1"
check "E2BIG: the log says why" contains "$TMP/stderr" "with cliques failed (Argument list too long); starting it unchanged"

# 5. divert layout without any configuration: <self>.real runs
export QEMU_P2P_CONFIG=$TMP/none/qemu-p2p.conf
cp "$RECORDER" "$TMP/bin/qemu-system-x86_64.real"
"$W" "${ARGS[@]}" 2> "$TMP/stderr"
check "divert layout, no config: .real starts with the original argv" args_equal "${ARGS[@]}"
check "divert layout, no config: the log says to refresh" contains "$TMP/stderr" 'run "qemu-p2p refresh" as root'
rm "$TMP/bin/qemu-system-x86_64.real"

# 6. shadow layout without any configuration: the packaged QEMU runs
out=$("$W" -version 2>&1)
check "shadow layout, no config: the next qemu-system-x86_64 on PATH runs" grep -q "QEMU emulator version" <<< "$out"

# 7. the wrapper as the only QEMU: a message and exit 127, no loop
if unshare --mount true 2> /dev/null; then
	mkdir -p "$TMP/empty"
	unshare --mount sh -c "mount --bind '$TMP/empty' /usr/local/bin && mount --bind '$TMP/empty' /usr/bin && \
		exec '$W' -version" > "$TMP/out" 2>&1
	rc=$?
	check "only QEMU: exit 127" [ "$rc" -eq 127 ]
	check "only QEMU: says there is no QEMU to run" contains "$TMP/out" "no QEMU to run"
else
	skip "only QEMU: exit 127" "unshare --mount is not permitted here"
	skip "only QEMU: message" "unshare --mount is not permitted here"
fi
done_testing

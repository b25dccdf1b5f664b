# Sourced by inside.sh (its helpers, $A $B on the root bus, bound to
# vfio-pci): the wrapper confined by AppArmor as libvirt confines a VM.
# qemu-p2p install runs for real (shadow mode: the wrapper at
# /usr/local/bin/qemu-system-x86_64, its rules in the local include of
# libvirt's abstraction); libvirt's own virt-aa-helper makes the domain's
# profile from Debian's TEMPLATE.qemu for a domain naming the two devices
# and loads it in enforce mode; the wrapper is started the way libvirtd
# starts a VM: environment cleared, the profile changed to before the exec
# (aa_change_profile, here aa-exec --immediate), so the exec of the wrapper,
# every file it reads and the exec of the real QEMU are all checked against
# the profile. Then the same start with the rules install writes for the
# wrapper's reads left out must lose the cliques, and say which read was
# denied: the test can fail.
aa_start=$(date +%s)
uuid=8d3c2b3e-6f1a-4c8e-9b7d-2a5e0c1f4d60
profile=libvirt-$uuid
local_aa=/etc/apparmor.d/local/abstractions/libvirt-qemu
emulator=/usr/local/bin/qemu-system-x86_64
# What libvirtd does for a VM start: a clean environment, the profile set
# while still in libvirtd's child, then exec of the domain's <emulator>.
as_libvirt=(env -i LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/
	aa-exec --immediate -p "$profile" -- "$emulator")

mountpoint -q /sys/kernel/security || mount -t securityfs securityfs /sys/kernel/security
check "AppArmor on in L1 (apparmor=1 security=apparmor), securityfs mounted" \
	sh -c '[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] && [ -e /sys/kernel/security/apparmor/.replace ]'

# The operator's file where the wrapper reads it under libvirt (no
# QEMU_P2P_CONFIG there); no [qemu] binary: the wrapper finds
# /usr/bin/qemu-system-x86_64 after its own directory on the PATH.
printf '[cliques]\nmode = map\n[map]\n0 = %s %s\n' "$A" "$B" > /etc/qemu-p2p.conf
env -u QEMU_P2P_CONFIG "$CLI" install --wrapper "$WRAP" > "$T/install" 2>&1
rc=$?
diag "install: $(grep -E '^(installed|self-test)' "$T/install")"
check "qemu-p2p install (shadow) on L1: exit 0, its rules in $local_aa, the self-test reached QEMU" \
	sh -c "[ $rc -eq 0 ] && grep -q 'BEGIN qemu-p2p' $local_aa && grep -q '^self-test: .* reached QEMU' '$T/install'"
cp "$local_aa" "$T/aa.install"

# The domain as libvirt saves it: its <emulator> names the wrapper (libvirt
# fills it at define time with the first qemu-system-x86_64 on its PATH).
hostdev() {
	printf "    <hostdev mode='subsystem' type='pci' managed='no'><driver name='vfio'/>\n"
	printf "      <source><address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/></source></hostdev>\n" \
		"${1:0:4}" "${1:5:2}" "${1:8:2}" "${1:11:1}"
}
cat > "$T/domain.xml" << EOF
<domain type='qemu'>
  <name>lab-apparmor</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>$emulator</emulator>
$(hostdev "$A")
$(hostdev "$B")
  </devices>
</domain>
EOF
# virt-aa-helper -c writes /etc/apparmor.d/libvirt/$profile{,.files} and
# loads the profile; -r regenerates and reloads it, as libvirt does at
# every VM start.
profile_load() {
	/usr/lib/libvirt/virt-aa-helper "$1" -u "$profile" < "$T/domain.xml" > "$T/vah" 2>&1 &&
		grep -qx "$profile (enforce)" /sys/kernel/security/apparmor/profiles
}
check "virt-aa-helper made the domain's profile (TEMPLATE.qemu, the devices' sysfs files and /dev/vfio) and loaded it in enforce mode" \
	profile_load -c
diag "profile: $(grep -c . "/etc/apparmor.d/libvirt/$profile.files") lines of devices and files in $profile.files"

# denials DMESG_BEFORE: the kernel's AppArmor denials for the profile since.
denials() { dmesg | tail -n +$(($1 + 1)) | grep 'apparmor="DENIED"' | grep -F "profile=\"$profile\""; }
confined_start() {
	local seen=$(dmesg | wc -l)
	l2 "${as_libvirt[@]}" -device "$(dev "$A" gpu0 4)" -device "$(dev "$B" gpu1 5)"
	capA=$(p2p_cap "$T/cfg4") capB=$(p2p_cap "$T/cfg5")
	sleep 0.2 # the kernel prints audit records from a thread
	denials "$seen" > "$T/denied"
	diag "confined by: $(cat "$T/label" 2> /dev/null)" "wrapper: $(grep '^qemu-p2p:' "$T/log")" \
		"slot 4 ($A): ${capA:-no P2P capability}; slot 5 ($B): ${capB:-no P2P capability}" \
		"denied: $(cat "$T/denied")"
}

# 1. Confined, with what install wrote.
confined_start
check "AppArmor, install's rules: L2 (wrapper, then QEMU) ran confined by $profile in enforce mode" \
	grep -qx "$profile (enforce)" "$T/label"
check "AppArmor, install's rules: the confined wrapper added the clique to both devices and QEMU started with it" \
	sh -c "grep -q '^qemu-p2p: clique 0 = gpu0 $A, gpu1 $B' '$T/log' && [ -n '$capA' ] && [ -n '$capB' ]"
check "AppArmor, install's rules: no access denied to the VM (the kernel logged no denial)" test ! -s "$T/denied"

# 2. The same without install's rules for the configuration files (its
# other rules kept: without the exec line libvirt could not even start the
# wrapper, a failure nobody misses). The wrapper must start QEMU untouched
# and its log line name the file it could not read.
grep -v '/etc/qemu-p2p' "$T/aa.install" > "$local_aa"
profile_load -r
confined_start
check "AppArmor, without the rules for the configuration: L2 starts (config space answered), no clique on either device" \
	sh -c "[ -s '$T/cfg5' ] && [ -z '$capA$capB' ]"
check "AppArmor, without them: the wrapper's log line names the denied read (/etc/qemu-p2p.conf: Permission denied)" \
	grep -q '^qemu-p2p: configuration rejected: /etc/qemu-p2p.conf: Permission denied' "$T/log"
check "AppArmor, without them: the kernel logged the denial of /etc/qemu-p2p.conf" grep -q 'name="/etc/qemu-p2p.conf"' "$T/denied"

# 3. Without install's rule for the GPUs' sysfs attributes (the slip
# commit 1e3f6d8 fixed): their identity (modalias) is unreadable.
grep -v '^  /sys/devices/' "$T/aa.install" > "$local_aa"
profile_load -r
confined_start
check "AppArmor, without the rule for sysfs attributes: no clique, the wrapper says the identity was unreadable" \
	sh -c "[ -z '$capA$capB' ] && [ -s '$T/cfg5' ] && grep -q '^qemu-p2p: .*gpu0 $A.*(identity unreadable (sysfs modalias, or vendor/device/class): Permission denied)' '$T/log'"
check "AppArmor, without it: the kernel logged the denied read of $A's modalias" \
	grep -q "name=\"/sys/devices/pci0000:00/$A/modalias\"" "$T/denied"
cp "$T/aa.install" "$local_aa"
diag "AppArmor part: $(($(date +%s) - aa_start)) s"

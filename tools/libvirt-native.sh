#!/bin/sh
# libvirt-native.sh DOMAIN.xml DIR [legacy]: what real libvirt prints for a
# domain's QEMU command line, with no daemon (`virsh -c
# qemu:///embed?root=DIR domxml-to-native qemu-argv`): one shell-quoted line,
# environment settings first. "legacy" asks for pre-JSON `-device
# driver,key=val` syntax, as libvirt < 8.1 writes it.
set -eu
xml=$1 root=$2
mkdir -p "$root/etc"
# QEMU as root in this private driver: libvirt checks /dev/kvm as the qemu
# user, and where only root may open it (0600, as on the software KVM of
# some CI machines) the probe, run as root, finds KVM while the check does
# not: libvirt then throws its capability cache away and probes again, for
# minutes. The user does not appear in the command line.
printf 'user = "root"\ngroup = "root"\n' > "$root/etc/qemu.conf"
if [ "${3:-}" = legacy ]; then
	echo 'capability_filters = [ "device.json+hotplug" ]' >> "$root/etc/qemu.conf"
fi
virsh -q -c "qemu:///embed?root=$root" domxml-to-native qemu-argv "$xml"

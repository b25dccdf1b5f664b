#!/bin/sh
# libvirt-argv.sh DOMAIN.xml DIR [legacy]: the QEMU argv real libvirt
# generates for a domain, one argument per line, with no daemon
# (`virsh -c qemu:///embed?root=DIR domxml-to-native`). "legacy" asks for
# pre-JSON `-device driver,key=val` syntax, as libvirt < 8.1 writes it.
set -eu
xml=$1 root=$2
mkdir -p "$root/etc"
if [ "${3:-}" = legacy ]; then
	echo 'capability_filters = [ "device.json+hotplug" ]' > "$root/etc/qemu.conf"
else
	: > "$root/etc/qemu.conf"
fi
line=$(virsh -q -c "qemu:///embed?root=$root" domxml-to-native qemu-argv "$xml")
# The line is shell-quoted and starts with VAR=value environment settings.
eval "set -- $line"
while [ $# -gt 0 ] && case $1 in *=*) true ;; *) false ;; esac; do shift; done
printf '%s\n' "$@"

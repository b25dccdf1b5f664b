#!/bin/sh
# libvirt-argv.sh DOMAIN.xml DIR [legacy]: the QEMU argv real libvirt
# generates for a domain (tools/libvirt-native.sh), one argument per line.
set -eu
line=$(sh "$(dirname "$0")/libvirt-native.sh" "$@")
# The line is shell-quoted and starts with VAR=value environment settings.
eval "set -- $line"
while [ $# -gt 0 ] && case $1 in *=*) true ;; *) false ;; esac; do shift; done
printf '%s\n' "$@"

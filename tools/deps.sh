#!/bin/sh
# Installs the Debian packages listed in tools/debian-packages.txt (or those
# named as arguments: make deb and make rpm need only the build's) that are
# not installed yet; does nothing (and needs no network) when all are there.
set -eu
list="$(dirname "$0")/debian-packages.txt"
# shellcheck disable=SC2046
[ $# -gt 0 ] || set -- $(sed 's/#.*//' "$list")
missing=""
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "tools/deps.sh: installing$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: run as root (or install:$missing)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

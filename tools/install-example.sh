#!/bin/sh
# meson install script: builds the example host's sysfs tree from its
# description into DESTDIR/PREFIX/DIR (meson passes MESON_INSTALL_DESTDIR_PREFIX).
# Usage: install-example.sh MKHOST.py HOST-DESCRIPTION DIR (DIR relative to the prefix)
set -eu
dest=$MESON_INSTALL_DESTDIR_PREFIX/$3
# mkhost.py makes links that must not exist yet: a reinstall starts afresh.
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
python3 "$1" "$2" "$dest"

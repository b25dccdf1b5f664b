#!/bin/sh
# What the recipe test needs to run Proxmox's and Nova's own code (make
# check-recipes), under DIR (default build-recipes); each part is made once
# and kept:
#   DIR/pve/{pve-common,pve-guest-common,qemu-server}/src  Proxmox's Perl at
#       the commits the checks were written against, cloned from
#       git.proxmox.com, or exported from the git repositories under
#       $PVE_SRC/NAME when that is set (about 3 MB);
#   DIR/nova-bookworm, DIR/nova-trixie  Debian 12 and 13 roots (debootstrap)
#       with python3-nova: Zed 26.2 and 2025.1 31.0; the latter also with
#       Placement, run in process (about 0.85 GB each; both took 7.5
#       minutes from deb.debian.org on 2 shared cores; or $DEBIAN_MIRROR).
#       Needs root.
set -eu
dir=${1:-build-recipes}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$dir/pve"

for r in pve-common:f665029eac78022e81810ab2e44eace57ade13fb \
	pve-guest-common:4a8f6cbf78e1b6992ef77facb4ff2ab3372999e7 \
	qemu-server:e6352be67f70042a7433a3a3c712b36d02f9f7cb; do
	name=${r%%:*} commit=${r#*:}
	[ -d "$dir/pve/$name/src" ] && continue
	repo=${PVE_SRC:+$PVE_SRC/$name}
	if [ -z "$repo" ]; then
		repo=$dir/pve/$name.git
		[ -d "$repo" ] || git clone -q --bare "https://git.proxmox.com/git/$name.git" "$repo"
	fi
	rm -rf "$dir/pve/$name.new" && mkdir "$dir/pve/$name.new"
	git -C "$repo" archive "$commit" src | tar x -C "$dir/pve/$name.new"
	mv "$dir/pve/$name.new" "$dir/pve/$name"
done

for suite in bookworm trixie; do
	root=$dir/nova-$suite
	[ -d "$root" ] && continue
	pkgs=python3-nova
	[ "$suite" = trixie ] && pkgs="$pkgs python3-placement python3-wsgi-intercept"
	rm -rf "$root.new"
	debootstrap --variant=minbase "$suite" "$root.new" "$mirror"
	# apt, not debootstrap's resolver, for Nova: the latter cannot pick a
	# package that provides a virtual one (python3-ply-lex-3.10).
	# shellcheck disable=SC2086
	chroot "$root.new" apt-get install -y -q --no-install-recommends $pkgs
	chroot "$root.new" apt-get clean
	mv "$root.new" "$root"
done

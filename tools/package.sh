#!/bin/sh
# make deb / make rpm: the host and guest packages, built from the working
# tree (tracked files and new ones git does not ignore) with the
# distribution's own tools. No tests run inside the package build: that is
# make check's job. Usage: tools/package.sh deb|rpm [BUILD]
#   deb: dpkg-buildpackage with packaging/debian as debian/ -> BUILD/deb/*.deb
#   rpm: rpmbuild -bb packaging/rpm/qemu-p2p.spec          -> BUILD/rpm/*.rpm
set -eu
what=${1:-} build=${2:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
case $what in
deb | rpm) ;;
*) echo "usage: $0 deb|rpm [BUILD]" >&2; exit 64 ;;
esac
mkdir -p "$build/$what"
out=$(cd "$build/$what" && pwd)
version=$(sed -n "s/^ *version : '\([^']*\)',*$/\1/p" "$src/meson.build" | head -n 1)
[ -n "$version" ] || { echo "$0: no version in $src/meson.build" >&2; exit 1; }
log=$out/build.log

# What the package build needs, and nothing of the test suite: the source
# package's Build-Depends (debhelper-compat is debhelper's), build-essential
# (dpkg-buildpackage insists on it), dpkg-dev, and rpm for rpmbuild.
deps=$(awk '/^Build-Depends:/ { on = 1; sub(/^[^:]*:/, ""); print; next } on && /^ / { print; next } { on = 0 }' \
	"$src/packaging/debian/control" |
	tr ',' '\n' | sed 's/[(<].*//; s/:any//; s/debhelper-compat/debhelper/; s/ //g' | grep . || true)
if command -v dpkg-query > /dev/null; then
	# shellcheck disable=SC2086
	sh "$src/tools/deps.sh" build-essential dpkg-dev $deps $([ "$what" = rpm ] && echo rpm)
fi
command -v git > /dev/null && git -C "$src" rev-parse --git-dir > /dev/null 2>&1 ||
	{ echo "$0: $src is not a git clone (the package is built from git's list of files)" >&2; exit 1; }

# The source tree as git sees it, in a clean directory of its own (a
# tracked file deleted but not yet committed is not copied: cp's complaint
# about it is dropped).
stage=$out/stage/qemu-p2p-$version
rm -rf "$out/stage" "$out"/*.deb "$out"/*.rpm "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$stage"
git -C "$src" ls-files -z --cached --others --exclude-standard |
	(cd "$src" && xargs -0 cp --parents -t "$stage" 2> /dev/null || true)
[ -f "$stage/meson.build" ] || { echo "$0: could not copy the source tree to $stage" >&2; exit 1; }

echo "Building the $what packages of qemu-p2p $version (log: $log)"
if [ "$what" = deb ]; then
	cp -r "$src/packaging/debian" "$stage/debian"
	# nocheck: see debian/rules; noddebs: no -dbgsym packages beside them.
	if ! (cd "$stage" && DEB_BUILD_OPTIONS="nocheck noddebs ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc -b) > "$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "$0: dpkg-buildpackage failed; the whole log: $log" >&2
		exit 1
	fi
	mv "$out"/stage/*.deb "$out"/stage/*.changes "$out"/stage/*.buildinfo "$out"/
	pkgs=$(cd "$out" && ls *.deb)
else
	top=$out/stage/rpmbuild
	mkdir -p "$top/SOURCES"
	tar -C "$out/stage" -czf "$top/SOURCES/qemu-p2p-$version.tar.gz" "qemu-p2p-$version"
	set -- --define "_topdir $top"
	# Debian's rpm: no %meson nor systemd macros, and an RPM database that
	# knows none of the build dependencies (apt installed them above).
	if [ "$(rpm --eval '%{?meson:yes}')" != yes ]; then
		set -- "$@" --load "$src/packaging/rpm/macros.fallback" --nodeps
	fi
	if ! rpmbuild "$@" -bb "$src/packaging/rpm/qemu-p2p.spec" > "$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "$0: rpmbuild failed; the whole log: $log" >&2
		exit 1
	fi
	mv "$top"/RPMS/*/*.rpm "$out"/
	pkgs=$(cd "$out" && ls *.rpm)
fi
rm -rf "$out/stage"
for p in $pkgs; do echo "$build/$what/$p"; done

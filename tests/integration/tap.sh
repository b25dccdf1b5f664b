# TAP helpers for the integration tests (sourced). Paths come from meson:
# QP2P_BUILD (build tree), QP2P_SRC (source tree), MKHOST, HOSTS.
set -u
T_N=0
T_FAILED=0
WRAP=$QP2P_BUILD/src/wrap/qemu-p2p-wrap
CLI=$QP2P_BUILD/src/cli/qemu-p2p
TMP=$(mktemp -d /tmp/qp2p-it.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# contains FILE TEXT: the file has TEXT (fixed string); shows the file if not.
contains() {
	grep -qF -- "$2" "$1" && return 0
	diag "expected '$2' in $1:" "$(cat "$1")"
	return 1
}

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

# host NAME DIR: builds tests/fixtures/hosts/NAME.host (or examples/) into DIR.
host() {
	local desc=$HOSTS/$1.host
	[ -f "$desc" ] || desc=$QP2P_SRC/examples/$1.host
	python3 "$MKHOST" "$desc" "$2"
}

# config DIR TEXT: writes DIR/qemu-p2p.conf (root-owned, 0644) and makes
# DIR/qemu-p2p.d for the host file.
config() {
	mkdir -p "$1/qemu-p2p.d"
	printf '%s\n' "$2" > "$1/qemu-p2p.conf"
	chmod 644 "$1/qemu-p2p.conf"
}

# map_host: the c8-free-gpus host as $TMP/sys and the configuration the
# argv tests rewrite against (its four GPUs and one audio function in one
# [map] group, host facts recorded), both exported as the defaults.
map_host() {
	host c8-free-gpus "$TMP/sys"
	export QEMU_P2P_SYSFS=$TMP/sys QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf
	config "$TMP/etc" "[cliques]
mode = map
[map]
0 = 0000:43:00.0 0000:44:00.0 0000:47:00.0 0000:48:00.0 0000:43:00.1"
	"$CLI" refresh > /dev/null 2>&1
}

#!/bin/sh
# make fuzz / make check: builds the libFuzzer harnesses with clang, ASan and
# UBSan in BUILD-fuzz, seeds each corpus from the tests, runs each harness
# for SECONDS, and prints one TAP line per harness with executions, corpus
# size and crashes. A crash leaves its input in BUILD-fuzz/crash-NAME-*:
# copy it to fuzz/regressions/NAME/ so every later run replays it.
# Usage: tools/fuzz.sh BUILD SECONDS
set -u
build=$1 seconds=${2:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
fb=$build-fuzz
if [ ! -f "$fb/build.ninja" ]; then
	CC=clang meson setup "$fb" -Dfuzz=true -Dstatic_wrapper=false -Db_sanitize=address,undefined \
		-Db_lundef=false > "$fb.setup.log" 2>&1 || { echo "not ok 1 - fuzz build setup (see $fb.setup.log)"; exit 1; }
fi
ninja -C "$fb" fuzz/fuzz_argv fuzz/fuzz_config > "$fb.build.log" 2>&1 || { echo "not ok 1 - fuzz build (see $fb.build.log)"; exit 1; }

# The host and configuration fuzz_argv decides against: two GPUs of one
# group, map mode, facts current for /bin/true, QEMU 7.2 with 0xC8 free on
# one GPU so the guard is exercised too.
work=$fb/work
rm -rf "$work"; mkdir -p "$work/etc/qemu-p2p.d"
python3 "$src/tests/fixtures/mkhost.py" "$src/tests/fixtures/hosts/two-gpus.host" "$work/sys"
printf '[qemu]\nbinary = /bin/true\n[cliques]\nmode = map\n[map]\n0 = 0000:03:00.0 0000:04:00.0\n' > "$work/etc/qemu-p2p.conf"
printf '[qemu]\nbinary = /bin/true\nversion = 7.2.0\nidentity = %s\n[gpus]\nc8_free = 0000:03:00.0\n' \
	"$(stat -L -c '%d:%i:%s:%Y' /bin/true)" > "$work/etc/qemu-p2p.d/host.conf"
chmod 644 "$work/etc/qemu-p2p.conf" "$work/etc/qemu-p2p.d/host.conf"

# Seeds: -device arguments the tests use, a libvirt argv, every .conf.
seed=$work/seed-argv; mkdir -p "$seed"
n=0
grep -ho "'[{v][^']*vfio-pci[^']*'" "$src"/tests/integration/*.sh "$src"/tests/unit/*.c 2>/dev/null | tr -d "'" | sort -u |
while IFS= read -r dev; do
	n=$((n + 1)); printf -- '-name\0guest=vm\0-device\0%s\0-device\0{"driver":"vfio-pci","host":"0000:04:00.0"}' "$dev" > "$seed/t$n"
done
printf -- '-device\0vfio-pci,host=03:00.0,id=a,\0-device\0vfio-pci,host=0000:04:00.0' > "$seed/legacy"
# Whole command lines libvirt and Proxmox generated (tests/fixtures/thirdparty).
find "$src/tests/fixtures/thirdparty" -name '*.args' -o -name '*.cmd' | while IFS= read -r f; do
	python3 -c 'import shlex, sys; sys.stdout.write("\0".join(shlex.split(open(sys.argv[1]).read().replace("\\\n", " "))[1:]))' \
		"$f" > "$seed/thirdparty-$(echo "${f#"$src"/tests/fixtures/thirdparty/}" | tr / -)"
done
printf -- '-device\0{"driver":"vfio-pci","host":"0000:03:00.0","id":"hostdev0"}\0-device\0{ "driver" : "vfio-pci", "host": "04:00.0" }' > "$seed/json"
cseed=$work/seed-config; mkdir -p "$cseed"
i=0; for f in "$src"/examples/*.conf "$work"/etc/qemu-p2p.conf "$work"/etc/qemu-p2p.d/host.conf; do
	i=$((i + 1)); { printf '\0'; cat "$f"; } > "$cseed/op$i"; { printf '\1'; cat "$f"; } > "$cseed/host$i"
done

t=0 failed=0
for h in argv config; do
	t=$((t + 1))
	corpus=$fb/corpus-$h; mkdir -p "$corpus"
	regress=$src/fuzz/regressions/$h
	seeds=$work/seed-$h
	log=$fb/fuzz-$h.log
	# Known crashes first: each must now pass.
	if [ -d "$regress" ] && ls "$regress"/* > /dev/null 2>&1; then
		QP2P_FUZZ_SYSFS=$work/sys QP2P_FUZZ_CONFIG=$work/etc/qemu-p2p.conf "$fb/fuzz/fuzz_$h" "$regress"/* > "$log.regress" 2>&1 ||
			{ echo "not ok $t - fuzz_$h: a regression input fails again (see $log.regress)"; failed=1; continue; }
	fi
	QP2P_FUZZ_SYSFS=$work/sys QP2P_FUZZ_CONFIG=$work/etc/qemu-p2p.conf "$fb/fuzz/fuzz_$h" \
		-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$fb/crash-$h-" "$corpus" "$seeds" > "$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	size=$(ls "$corpus" | wc -l)
	crashes=$(ls "$fb"/crash-$h-* 2> /dev/null | wc -l)
	if [ $rc -eq 0 ] && [ "$crashes" -eq 0 ]; then
		echo "ok $t - fuzz_$h: ${execs:-?} executions in ${seconds} s, corpus $size inputs, crashes: 0"
	else
		echo "not ok $t - fuzz_$h: crashes: $crashes (exit $rc; see $log and $fb/crash-$h-*)"
		failed=1
	fi
done
echo "1..$t"
exit $failed

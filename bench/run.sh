#!/bin/sh
# make bench: what the wrapper adds to a VM start, measured side by side
# (alternating runs) against exec of a stand-in QEMU that exits at once and
# against the floor, a static shim that only execs it; then topo and plan on
# big hosts. Every wrapper case is first checked to really add cliques.
#
# Usage: bench/run.sh BUILD [RUNS]
# BENCH_BEFORE=OTHER_BUILD adds rows for that build's wrapper and qemu-p2p
# (an older checkout), measured in the same run.
set -eu
build=$(cd "$1" && pwd)
runs=${2:-200}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$build/bench-work
standin=$build/bench/standin shim=$build/bench/shim harness=$build/bench/harness
wrap=$build/src/wrap/qemu-p2p-wrap cli=$build/src/cli/qemu-p2p
before=${BENCH_BEFORE:+$(cd "$BENCH_BEFORE" && pwd)}
rm -rf "$work"
mkdir -p "$work"

# conf NAME MODE [MAPFILE]: a configuration whose real QEMU is the stand-in,
# with current host facts (QEMU 8.2.2: no capability guard).
conf() {
	mkdir -p "$work/$1/qemu-p2p.d"
	printf '[qemu]\nbinary = %s\n[cliques]\nmode = %s\n' "$standin" "$2" > "$work/$1/qemu-p2p.conf"
	[ $# -lt 3 ] || cat "$3" >> "$work/$1/qemu-p2p.conf"
	printf '[qemu]\nbinary = %s\nversion = 8.2.2\nidentity = %s\n' "$standin" \
		"$(stat -L -c '%d:%i:%s:%Y' "$standin")" > "$work/$1/qemu-p2p.d/host.conf"
}

# host NAME GPUS FUNCTIONS: a synthetic host tree (bench/bighost.py).
host() {
	python3 "$src/bench/bighost.py" "$2" "$3" > "$work/$1.host"
	python3 "$src/tests/fixtures/mkhost.py" "$work/$1.host" "$work/$1"
}

# gpus HOSTFILE N: the first N GPU addresses of a host description.
gpus() {
	awk '/vendor=10de/ && /class=03/ { split($2, p, "/"); print p[length(p)] }' "$1" | head -n "$2"
}

# argv NAME HOSTFILE N: libvirt's 8-GPU argv with its GPUs replaced by the
# first N GPUs of the host, as JSON -device (what libvirt >= 8.1 writes).
argv() {
	grep -v '"vfio-pci"' "$work/argv8" | sed '/^-device$/{N;/\n$/d}' > "$work/$1"
	gpus "$2" "$3" | awk '{ printf "-device\n{\"driver\":\"vfio-pci\",\"host\":\"%s\",\"id\":\"hostdev%d\"}\n", $1, n++ }' \
		>> "$work/$1"
}

# mapfile FILE HOSTFILE N: a [map] of N addresses, eight to a group: the
# host's GPUs first, then addresses of a domain no host has.
mapfile() {
	{ gpus "$2" 100000; i=0; while [ $i -lt "$3" ]; do printf '%04x:%02x:00.0\n' $((0x3000 + i / 256)) $((i % 256)); i=$((i + 1)); done; } |
		head -n "$3" | awk 'BEGIN { print "[map]" } { a[n++] = $1 } END { for (i = 0; i < n; i += 8) { line = int(i / 8) " ="; for (k = i; k < i + 8 && k < n; k++) line = line " " a[k]; print line } }' > "$1"
}

echo "== preparing: the example host, hosts of 16/64/256 GPUs, libvirt's argv (virsh, about a minute)"
python3 "$src/tests/fixtures/mkhost.py" "$src/examples/blog-8gpu.host" "$work/blog"
host h16 16 2000
host h64 64 2000
host h256 256 20000
# libvirt's argv is kept between runs: virsh takes a minute here.
cached=$build/bench-argv8
if [ ! -s "$cached" ] || [ "$src/examples/gpu8-domain.xml" -nt "$cached" ]; then
	sh "$src/tools/libvirt-argv.sh" "$src/examples/gpu8-domain.xml" "$work/libvirt" | tail -n +2 > "$cached.tmp"
	mv "$cached.tmp" "$cached"
fi
cp "$cached" "$work/argv8"
argv argv1 "$src/examples/blog-8gpu.host" 1
argv argv8h16 "$work/h16.host" 8
argv argv8h64 "$work/h64.host" 8
argv argv8h256 "$work/h256.host" 8
argv argv64 "$work/h64.host" 64
conf auto auto
mapfile "$work/map-blog" "$src/examples/blog-8gpu.host" 8
conf map map "$work/map-blog"
mapfile "$work/map-h64" "$work/h64.host" 64
conf map64 map "$work/map-h64"
for n in 16 256 1000; do
	mapfile "$work/map$n.txt" "$src/examples/blog-8gpu.host" $n
	conf map$n map "$work/map$n.txt"
done

# check CONF SYSFS ARGV: the wrapper puts a clique on the VM's GPUs (a
# VM of one GPU: says why it adds none).
check() {
	log=$(QEMU_P2P_CONFIG=$work/$1/qemu-p2p.conf QEMU_P2P_SYSFS=$work/$2 xargs -d '\n' "$wrap" < "$work/$3" 2>&1)
	case $log in *"clique 0 = "* | *"(the only GPU of its group in this VM)"*)
		printf '  %-7s %-5s %-10s %s\n' "$1" "$2" "$3" "$(echo "$log" | cut -c1-90)" ;;
	*) echo "bench: the wrapper added no clique for $1 $2 $3: $log" >&2; exit 1 ;; esac
}
for c in "map blog argv1" "auto blog argv1" "map blog argv8" "auto blog argv8" "map64 h64 argv64" "auto h64 argv64" \
	"auto h16 argv8h16" "auto h64 argv8h64" "auto h256 argv8h256" "map16 blog argv8" "map256 blog argv8" \
	"map1000 blog argv8"; do
	check $c
done

# rows LABEL CONF SYSFS ARGV: the wrapper's row, and the older build's;
# one harness argument a line.
rows() {
	printf '%s\n' --- "wrapper, $1" "QEMU_P2P_CONFIG=$work/$2/qemu-p2p.conf" "QEMU_P2P_SYSFS=$work/$3" -- "$wrap" "@$work/$4"
	[ -z "$before" ] || printf '%s\n' --- "before: wrapper, $1" "QEMU_P2P_CONFIG=$work/$2/qemu-p2p.conf" \
		"QEMU_P2P_SYSFS=$work/$3" -- "$before/src/wrap/qemu-p2p-wrap" "@$work/$4"
}

# table TITLE CASE...: CASE is LABEL:CONF:SYSFS:ARGV; the stand-in and the
# shim take the last case's argv.
table() {
	echo
	echo "== $1"
	shift
	list=$work/rows
	for c in "$@"; do last=${c##*:}; done
	printf '%s\n' "direct exec of the stand-in" -- "$standin" "@$work/$last" --- \
		"static exec-only shim (the floor)" -- "$shim" "@$work/$last" > "$list"
	for c in "$@"; do
		IFS=: read -r label conf sys args <<-END
			$c
		END
		rows "$label" "$conf" "$sys" "$args" >> "$list"
	done
	xargs -d '\n' "$harness" "$runs" --floor 1 < "$list"
}

echo -version > "$work/probe"
table "VM start, 1 GPU (example host: 8 GPUs); a -version probe: the least the wrapper does (read the configuration, find QEMU, exec)" \
	"-version probe:map:blog:probe" "map:map:blog:argv1" "auto:auto:blog:argv1"
table "VM start, 8 GPUs (libvirt's argv, example host)" "map:map:blog:argv8" "auto:auto:blog:argv8"
table "VM start, 64 GPUs (host of 64 GPUs, 2,000 functions)" "map:map64:h64:argv64" "auto:auto:h64:argv64"
table "VM start, 8 GPUs, auto mode on bigger hosts" "16 GPUs / 2,000 functions:auto:h16:argv8h16" \
	"64 GPUs / 2,000 functions:auto:h64:argv8h64" "256 GPUs / 20,000 functions:auto:h256:argv8h256"
table "VM start, 8 GPUs, map mode with [map] of 16 / 256 / 1,000 addresses" "map of 16:map16:blog:argv8" \
	"map of 256:map256:blog:argv8" "map of 1,000:map1000:blog:argv8"

echo
echo "== topo and plan on big hosts ($((runs / 20 + 3)) runs)"
set -- "direct exec of the stand-in" -- "$standin"
for h in "h16:2,000" "h256:20,000"; do
	set -- "$@" --- "topo, ${h#*:} functions" -- "$cli" topo --sysfs "$work/${h%%:*}" \
		--- "plan, ${h#*:} functions" -- "$cli" plan --sysfs "$work/${h%%:*}" --config "$work/auto/qemu-p2p.conf"
	[ -z "$before" ] || set -- "$@" --- "before: topo, ${h#*:} functions" -- "$before/src/cli/qemu-p2p" topo \
		--sysfs "$work/${h%%:*}" --- "before: plan, ${h#*:} functions" -- "$before/src/cli/qemu-p2p" plan \
		--sysfs "$work/${h%%:*}" --config "$work/auto/qemu-p2p.conf"
done
"$harness" $((runs / 20 + 3)) "$@"

echo
echo "== reading a GPU's identity, per function: this machine's own kernel (/sys) and a fixture tree"
echo "-- /sys (real kernel):"
"$build/bench/identread" /sys 20
echo "-- fixture tree (plain files: config looks cheap here, it is not on a real host):"
"$build/bench/identread" "$work/h16" 20

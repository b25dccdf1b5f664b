#!/bin/bash
# qemu-p2p plan --for proxmox, nova and libvirt: the recipes that keep a
# VM's GPUs in one P2P group, on the example host (also with groups equal
# to its NUMA nodes) and the public machines of tests/fixtures/real.
# Every recipe passes our reading of the scheduler's format
# (tests/recipe/format_check.py); where make check-recipes prepared them
# (tests/recipe/prepare.sh), Proxmox's own Perl and Nova's own Python (Zed
# and 2025.1, with Placement) read it too. The example host's output is the
# one the docs show; bad input is refused whole.
. "$(dirname "$0")/tap.sh"
R=$QP2P_SRC/tests/recipe
ROOTS=${QP2P_RECIPE_ROOTS:-$QP2P_SRC/build-recipes}
PVE=$ROOTS/pve
export QEMU_P2P_CONFIG=$TMP/none/qemu-p2p.conf

# sub_tap DESC COMMAND...: the TAP lines a checker prints, numbered here;
# a checker that fails without saying which line is a failure too.
sub_tap() {
	local desc=$1 rc failed=0 line
	shift
	"$@" > "$TMP/sub.out" 2> "$TMP/sub.err"
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$desc: ${line#ok - }" ;;
		"not ok - "*) not_ok "$desc: ${line#not ok - }"; failed=1 ;;
		"#"*) echo "$line" ;;
		esac
	done < "$TMP/sub.out"
	if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
		not_ok "$desc: the checker exited $rc"
		diag "$(tail -n 20 "$TMP/sub.err")"
	fi
}

# fails COMMAND...: the checker rejects the input (it can fail at all).
fails() { ! "$@" > "$TMP/neg.out" 2>&1; }

name_for() { case $1 in proxmox) echo pve1 ;; nova) echo compute1 ;; *) echo host1 ;; esac; }

mkdir -p "$TMP/cfg"
host blog-8gpu "$TMP/blog"
config "$TMP/cfg/node" "[cliques]
level = NODE"
# The example host with SR-IOV capable GPUs (as A100, H100 and many
# data-center GPUs are): Nova sees them as type-PF.
sed 's/^\(dev .* class=030[0-9]* vendor=10de .*\)$/\1 sriov=32/' "$QP2P_SRC/examples/blog-8gpu.host" > "$TMP/blog-sriov.host"
python3 "$MKHOST" "$TMP/blog-sriov.host" "$TMP/blog-sriov"
hosts="blog blog-node blog-sriov"
for m in torch-ipc-8gpu wrx80-2gpu h12ssl-2gpu; do
	python3 "$MKHOST" "$QP2P_SRC/tests/fixtures/real/$m.host" "$TMP/$m"
	hosts="$hosts $m"
done
ln -s blog "$TMP/blog-node"
# recipe HOST TARGET [ARG...]: plan --for on a host, blog-node with level NODE.
recipe() {
	local h=$1 t=$2
	shift 2
	[ "$h" = blog-node ] && set -- --config "$TMP/cfg/node/qemu-p2p.conf" "$@"
	"$CLI" plan --for "$t" --hostname "$(name_for "$t")" --sysfs "$TMP/$h" "$@"
}

# Proxmox's SysFSTools skips a function without an irq file, which
# mkhost.py does not write: a copy of each tree that has one.
for h in blog blog-sriov torch-ipc-8gpu wrx80-2gpu h12ssl-2gpu; do
	cp -a "$TMP/$h" "$TMP/$h.irq"
	for d in "$TMP/$h.irq"/bus/pci/devices/*; do echo 16 > "$d/irq"; done
done
ln -s blog.irq "$TMP/blog-node.irq"

pve_ready() { [ -d "$PVE/qemu-server/src" ] && perl -MHTTP::Status -MNet::IP -MDevel::Cycle -MFilesys::Df -e1 2> /dev/null; }
nova_ready() { [ -d "$ROOTS/nova-$1" ] && [ "$(id -u)" = 0 ]; }

# nova_real SUITE RECIPE TREE PLAN: nova_check.py inside the Debian root.
nova_real() {
	local root=$ROOTS/nova-$1 d
	d=$(mktemp -d "$root/tmp/qp2p.XXXXXX")
	cp -a "$R/nova_check.py" "$2" "$4" "$d/" && cp -a "$(readlink -f "$3")" "$d/sysfs"
	chroot "$root" python3 "/tmp/${d##*/}/nova_check.py" "/tmp/${d##*/}/${2##*/}" "/tmp/${d##*/}/sysfs" \
		"/tmp/${d##*/}/${4##*/}"
	local rc=$?
	rm -rf "$d"
	return $rc
}

for h in $hosts; do
	for t in proxmox nova libvirt; do
		recipe "$h" $t > "$TMP/$h.$t" 2> "$TMP/err"
		rc=$?
		check "$h: plan --for $t: exit 0, a recipe, nothing on stderr" \
			sh -c "[ $rc -eq 0 ] && [ -s '$TMP/$h.$t' ] && [ ! -s '$TMP/err' ]"
		recipe "$h" $t --json > "$TMP/$h.$t.json"
	done
	sub_tap "$h proxmox format" python3 "$R/format_check.py" proxmox "$TMP/$h.proxmox" "$TMP/$h.irq" pve1
	sub_tap "$h nova format" python3 "$R/format_check.py" nova "$TMP/$h.nova" "$TMP/$h" "$TMP/$h.nova.json"
	if pve_ready; then
		sub_tap "$h" perl "$R/pve_check.pl" "$PVE/pve-common/src" "$PVE/pve-guest-common/src" \
			"$PVE/qemu-server/src" "$TMP/$h.proxmox" "$TMP/$h.irq" pve1
	else
		skip "$h: Proxmox's own code reads the recipe" "not prepared: make check-recipes"
	fi
	for s in bookworm trixie; do
		if nova_ready $s; then
			sub_tap "$h" nova_real $s "$TMP/$h.nova" "$TMP/$h" "$TMP/$h.nova.json"
		else
			skip "$h: Nova of Debian $s reads the recipe" "not prepared (make check-recipes, as root)"
		fi
	done
done

# What the recipes say about this host, beyond the format.
check "example host: four mappings of two GPUs" sh -c "[ \$(grep -c '^p2p-pve1-g[0-3]$' '$TMP/blog.proxmox') -eq 4 ]"
check "example host at PHB: NUMA cannot stand for the groups before 2023.1" \
	contains "$TMP/blog.nova" "# Here it cannot: NUMA node 0 holds groups 0 and 1."
check "example host at NODE: it can (the groups are the sockets)" \
	contains "$TMP/blog-node.nova" "# Here it can: the GPUs of each NUMA node are one group."
check "one group (wrx80, NODE on AMD): any alias keeps a VM in it" \
	contains "$TMP/wrx80-2gpu.nova" "# Here every GPU is in one group: any alias keeps a VM in it:"
check "real machine without IOMMU groups: no iommugroup, and why" \
	sh -c "! grep -q iommugroup= '$TMP/wrx80-2gpu.proxmox' && grep -q 'No IOMMU group: 0000:01:00.0 0000:02:00.0. Turn the IOMMU on' '$TMP/wrx80-2gpu.proxmox'"
check "libvirt: node device names per group" contains "$TMP/blog.libvirt" \
	"group 3: pci_0000_f4_00_0 pci_0000_f5_00_0"
check "--json: version first, the text, and each group's names" python3 - "$TMP/blog.proxmox.json" \
	"$TMP/blog.proxmox" "$TMP/blog.nova.json" "$TMP/blog.libvirt.json" <<'PY'
import json, sys
p, text, n, l = (json.load(open(sys.argv[1])), open(sys.argv[2]).read(), json.load(open(sys.argv[3])),
                 json.load(open(sys.argv[4])))
assert list(p)[0] == "version" and p["version"] == 1 and p["for"] == "proxmox" and p["host"] == "pve1"
assert p["text"] == text and p["basis"].startswith("level PHB")
g = p["groups"][1]
assert g["label"] == 1 and g["gpus"] == ["0000:76:00.0", "0000:77:00.0"] and g["mapping"] == "p2p-pve1-g1"
assert g["map"][0] in text and g["pvesh"].startswith("pvesh create /cluster/mapping/pci --id p2p-pve1-g1 ")
g = n["groups"][2]
assert g["resource_class"] == "CUSTOM_P2P_G2" and json.loads(g["alias"])["name"] == "p2p-g2"
assert json.loads(g["device_spec"][1]) == {"address": "0000:86:00.0", "resource_class": "CUSTOM_P2P_G2"}
assert l["groups"][0]["nodedevs"] == ["pci_0000_05_00_0", "pci_0000_06_00_0"]
PY

# The checkers can fail: a wrong IOMMU group, a GPU given another group's class.
sed 's/iommugroup=20,/iommugroup=99,/' "$TMP/blog.proxmox" > "$TMP/bad.proxmox"
sed '0,/"CUSTOM_P2P_G0"}/s//"CUSTOM_P2P_G1"}/' "$TMP/blog.nova" > "$TMP/bad.nova"
check "format_check refuses a map entry whose IOMMU group is not the host's" \
	fails python3 "$R/format_check.py" proxmox "$TMP/bad.proxmox" "$TMP/blog.irq" pve1
check "format_check refuses a GPU tagged with another group's class" \
	fails python3 "$R/format_check.py" nova "$TMP/bad.nova" "$TMP/blog" "$TMP/blog.nova.json"
sub_tap "Proxmox's test data (tests/fixtures/proxmox)" python3 "$R/format_check.py" proxmox-cfg \
	"$QP2P_SRC/tests/fixtures/proxmox/pci.cfg"
if pve_ready; then
	check "PCI.pm's assert_valid refuses a map entry whose IOMMU group is not the host's" \
		fails perl "$R/pve_check.pl" "$PVE/pve-common/src" "$PVE/pve-guest-common/src" \
		"$PVE/qemu-server/src" "$TMP/bad.proxmox" "$TMP/blog.irq" pve1
	sub_tap "Proxmox's test data, read and written back by PCI.pm" perl "$R/pve_check.pl" \
		"$PVE/pve-common/src" "$PVE/pve-guest-common/src" "$PVE/qemu-server/src" \
		"$QP2P_SRC/tests/fixtures/proxmox/pci.cfg"
else
	skip "Proxmox's own code refuses a wrong IOMMU group" "not prepared: make check-recipes"
fi
if nova_ready trixie; then
	check "Nova 2025.1 with Placement catches a GPU tagged with another group's class" \
		fails nova_real trixie "$TMP/bad.nova" "$TMP/blog" "$TMP/blog.nova.json"
else
	skip "Nova 2025.1 catches a GPU tagged with another group's class" "not prepared: make check-recipes"
fi

# The docs show the example host's recipes as generated.
for pair in proxmox:proxmox nova:openstack-kolla libvirt:libvirt; do
	t=${pair%%:*} doc=$QP2P_SRC/docs/${pair#*:}.md missing=""
	while IFS= read -r line; do
		grep -qxF -- "$line" "$doc" || missing="$missing
$line"
	done < "$TMP/blog.$t"
	check "docs/${pair#*:}.md shows the example host's --for $t output" [ -z "$missing" ]
	[ -z "$missing" ] || diag "missing:$missing"
done

# Bad input: one line on stderr, exit 1, nothing on stdout.
refused() { # DESC EXPECTED-TEXT plan-ARGS...
	local desc=$1 want=$2
	shift 2
	"$CLI" plan "$@" > "$TMP/out" 2> "$TMP/err"
	local rc=$?
	if [ $rc -eq 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l < "$TMP/err")" -eq 1 ] &&
		grep -qF -- "qemu-p2p plan: $want" "$TMP/err"; then
		ok "refused: $desc"
	else
		not_ok "refused: $desc (exit $rc)"
		diag "stdout:" "$(head -n 5 "$TMP/out")" "stderr:" "$(cat "$TMP/err")"
	fi
}
python3 "$MKHOST" /dev/stdin "$TMP/nogpu" <<'H'
root 0000:00 vendor=8086 numa=0
dev 0000:00:01.0/0000:01:00.0 class=020000 vendor=15b3 device=1021
H
refused "a host without GPU" "--for nova: no NVIDIA GPU under the sysfs root: nothing to keep together" \
	--for nova --sysfs "$TMP/nogpu"
config "$TMP/cfg/map" "[cliques]
mode = map
[map]
0 = 0000:05:00.0 0000:06:00.0"
refused "GPUs in no group ([map] names two of eight)" \
	"--for proxmox: 0000:76:00.0 (and 5 more) is in no P2P group: [map] in $TMP/cfg/map/qemu-p2p.conf does not name it" \
	--for proxmox --hostname pve1 --sysfs "$TMP/blog" --config "$TMP/cfg/map/qemu-p2p.conf"
config "$TMP/cfg/pix" "[cliques]
level = PIX"
refused "no group of two GPUs (PIX on a machine whose GPUs sit on two roots)" \
	"--for libvirt: no P2P group holds two GPUs (groups by level PIX)" \
	--for libvirt --sysfs "$TMP/wrx80-2gpu" --config "$TMP/cfg/pix/qemu-p2p.conf"
config "$TMP/cfg/off" "[cliques]
mode = off"
refused "mode = off" "--for nova: [cliques] mode = off: the wrapper gives no clique" \
	--for nova --sysfs "$TMP/blog" --config "$TMP/cfg/off/qemu-p2p.conf"
config "$TMP/cfg/bad" "[cliques]
level = sideways"
refused "a configuration the wrapper rejects" "configuration rejected: $TMP/cfg/bad/qemu-p2p.conf:2:" \
	--for nova --sysfs "$TMP/blog" --config "$TMP/cfg/bad/qemu-p2p.conf"
sed '0,/^\(dev .* class=030[0-9]* vendor=10de .*\)$/s//\1 sriov=16/' "$QP2P_SRC/examples/blog-8gpu.host" > "$TMP/mixed.host"
python3 "$MKHOST" "$TMP/mixed.host" "$TMP/mixed"
refused "SR-IOV capable GPUs beside others (Nova: one device type per alias)" \
	"--for nova: 0000:05:00.0 is SR-IOV capable (Nova's type-PF) and 0000:06:00.0 is not (type-PCI)" \
	--for nova --sysfs "$TMP/mixed"
refused "a host name Proxmox refuses as a node name" \
	"--for proxmox: host name 'pve_1' is not a Proxmox node name" \
	--for proxmox --hostname pve_1 --sysfs "$TMP/blog"
refused "a missing --config file" "$TMP/cfg/none.conf: no such file (given with --config)" \
	--for nova --sysfs "$TMP/blog" --config "$TMP/cfg/none.conf"
"$CLI" plan --for proxmox --hostname pve1.example.org --sysfs "$TMP/blog" > "$TMP/fqdn"
check "--hostname with a domain: Proxmox's node name is the part before the first dot" \
	sh -c "grep -q '^p2p-pve1-g0$' '$TMP/fqdn' && ! grep -q example '$TMP/fqdn'"
"$CLI" plan --for nova --sysfs "$TMP/nogpu" --json > "$TMP/out" 2> /dev/null
check "--json refused: one error object, nothing else" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(not (list(d)[:2] == ["version", "error"] and "no NVIDIA GPU" in d["error"]))' "$TMP/out"
usage() { # DESC EXPECTED plan-ARGS...
	local desc=$1 want=$2
	shift 2
	"$CLI" plan "$@" > "$TMP/out" 2> "$TMP/err"
	local rc=$?
	check "usage error: $desc" sh -c "[ $rc -eq 64 ] && [ ! -s '$TMP/out' ] && grep -qF -- \"$want\" '$TMP/err'"
}
usage "an unknown target" "--for slurm: use proxmox, nova or libvirt" --for slurm
usage "--for with --level" "--for takes the groups the wrapper uses" --for nova --level PHB
usage "--for with --write" "--for takes the groups the wrapper uses" --for nova --write
usage "--hostname without --for" "--hostname goes with --for" --hostname pve1
done_testing

#!/bin/bash
# qemu-p2p topo and plan on fixture trees: public machines' nvidia-smi
# matrices reproduced, the JSON schemas, plan levels, --write and its
# warnings, --from-nvidia-smi (transitive, not, ties, errors), ACS.
. "$(dirname "$0")/tap.sh"
REAL=$QP2P_SRC/tests/fixtures/real
NVSMI=$QP2P_SRC/tests/fixtures/nvsmi
export QEMU_P2P_CONFIG=$TMP/etc/qemu-p2p.conf
mkdir -p "$TMP/etc/qemu-p2p.d"

# matrix_of TOPO_OUTPUT: the GPU rows of the matrix, links only.
matrix_of() { awk '/^GPU[0-9]/ { printf "%s", $1; for (i = 2; i < NF; i++) printf " %s", $i; print "" }' "$1"; }
expected() { grep -v '^#' "$1" | sed 's/SOC/SYS/g'; }

for m in torch-ipc-8gpu wrx80-2gpu h12ssl-2gpu; do
	python3 "$MKHOST" "$REAL/$m.host" "$TMP/$m"
	"$CLI" topo --sysfs "$TMP/$m" > "$TMP/$m.out"
	matrix_of "$TMP/$m.out" > "$TMP/$m.got"
	expected "$REAL/$m.matrix" > "$TMP/$m.want"
	if diff -u "$TMP/$m.want" "$TMP/$m.got" > "$TMP/$m.diff"; then ok "$m: nvidia-smi's published matrix reproduced"
	else not_ok "$m: nvidia-smi's published matrix reproduced"; diag "$(cat "$TMP/$m.diff")"; fi
done

host blog-8gpu "$TMP/blog"
"$CLI" topo --sysfs "$TMP/blog" --json > "$TMP/topo.json"
check "topo --json: the schema of the issue, one link per unordered pair" python3 - "$TMP/topo.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d)[0] == "version" and d["version"] == 1
g = d["gpus"]
assert [x["address"] for x in g] == ["0000:05:00.0", "0000:06:00.0", "0000:76:00.0", "0000:77:00.0",
                                    "0000:85:00.0", "0000:86:00.0", "0000:f4:00.0", "0000:f5:00.0"]
assert all(set(x) >= {"index", "address", "vendor_id", "device_id", "name", "numa_node", "driver", "iommu_group"} for x in g)
assert g[0]["vendor_id"] == "10de" and g[0]["device_id"] == "2bb1" and g[0]["iommu_group"] == 20 and g[7]["numa_node"] == 1
assert len(d["links"]) == 28
t = {(l["a"], l["b"]): l["type"] for l in d["links"]}
assert t[("0000:05:00.0", "0000:06:00.0")] == "PIX" and t[("0000:05:00.0", "0000:76:00.0")] == "NODE"
assert t[("0000:05:00.0", "0000:f5:00.0")] == "SYS"
PY
"$CLI" topo --sysfs "$TMP/torch-ipc-8gpu" > "$TMP/names"
check "topo names GPUs from the PCI ID database (libpci)" contains "$TMP/names" "GM200 [GeForce GTX TITAN X]"
python3 "$MKHOST" /dev/stdin "$TMP/numa" <<'H'
root 0000:00 vendor=8086 numa=-1
dev 0000:00:01.0/0000:01:00.0 class=030000 vendor=10de device=ffff
H
"$CLI" topo --sysfs "$TMP/numa" --json > "$TMP/numa.json"
check "topo --json: unknown NUMA node and IOMMU group, no name -> null" python3 -c '
import json,sys; g=json.load(open(sys.argv[1]))["gpus"][0]
sys.exit(not (g["numa_node"] is None and g["iommu_group"] is None and g["driver"] is None and g["name"] is None))' "$TMP/numa.json"

# plan: auto on Intel host bridges is PHB; levels nest.
"$CLI" plan --sysfs "$TMP/blog" > "$TMP/plan"
check "plan auto on Intel: PHB, and why" contains "$TMP/plan" "Level: PHB (auto: Intel host bridges"
check "plan auto: the switch pairs" contains "$TMP/plan" "Group 3: 0000:f4:00.0 0000:f5:00.0"
"$CLI" plan --sysfs "$TMP/blog" --level node --json > "$TMP/node.json"
check "plan --level NODE --json: two groups of four (one per socket)" python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
sys.exit(not (d["version"]==1 and d["level"]=="NODE" and [len(g["gpus"]) for g in d["groups"]]==[4,4] and d["groups"][1]["label"]==1))' "$TMP/node.json"
"$CLI" plan --sysfs "$TMP/wrx80-2gpu" > "$TMP/amd"
check "plan auto on AMD: NODE" contains "$TMP/amd" "Level: NODE (auto: AMD host bridges"
"$CLI" plan --sysfs "$TMP/h12ssl-2gpu" > "$TMP/epyc"
check "plan auto on the EPYC machine: its NODE pair is one group" contains "$TMP/epyc" "Group 0: 0000:81:00.0 0000:c1:00.0"
# Two GPUs below more bridges than a path can hold: their links are
# unknown, so no plan may put them together.
deep() { local b=$1 c="0000:00:0$1.0"; for i in $(seq 0 15); do c="$c/0000:$b$(printf %x "$i"):00.0"; done; echo "$c"; }
printf '%s\n' 'root 0000:00 vendor=8086 numa=0' \
	"dev $(deep 1)/0000:20:00.0 class=030000 vendor=10de device=2204" \
	"dev $(deep 3)/0000:40:00.0 class=030000 vendor=10de device=2204" | python3 "$MKHOST" /dev/stdin "$TMP/deep"
"$CLI" plan --sysfs "$TMP/deep" --level SYS > "$TMP/deep.plan"
check "plan: GPUs of unknown topology are in no group, and named" contains "$TMP/deep.plan" "In no group (their VMs get no clique): 0000:20:00.0 0000:40:00.0"
"$CLI" plan --sysfs "$TMP/blog" --level bogus 2> "$TMP/err"; rc=$?
check "plan --level bogus: usage error 64" [ $rc -eq 64 ]
check "plan --level bogus: says what to use" contains "$TMP/err" "use PIX, PXB, PHB, NODE, SYS or auto"

# --write: the host file's [map] and mode, atomically; facts kept.
printf '# Generated\n[qemu]\nbinary = /usr/bin/qemu-system-x86_64\nversion = 8.2.2\nidentity = 1:2:3:4\n' > "$TMP/etc/qemu-p2p.d/host.conf"
printf '[cliques]\nlevel = NODE\n' > "$TMP/etc/qemu-p2p.conf"
"$CLI" plan --sysfs "$TMP/blog" --write --dry-run > "$TMP/dry"
check "--write --dry-run prints the file and changes nothing" sh -c "grep -q 'would write' '$TMP/dry' && ! grep -q '\[map\]' '$TMP/etc/qemu-p2p.d/host.conf'"
check "plan follows [cliques] level of the operator file" contains "$TMP/dry" "0 = 0000:05:00.0 0000:06:00.0 0000:76:00.0 0000:77:00.0"
"$CLI" plan --sysfs "$TMP/blog" --level PHB --write --json > "$TMP/w.json" 2> "$TMP/w.err"
H=$TMP/etc/qemu-p2p.d/host.conf
check "--write: mode = map" contains "$H" "mode = map"
check "--write: one group per line, at most four addresses" contains "$H" "3 = 0000:f4:00.0 0000:f5:00.0"
check "--write: the facts are kept" contains "$H" "identity = 1:2:3:4"
check "--write --json: changed, the file named" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["changed"] and d["files"]==[sys.argv[2]]))' "$TMP/w.json" "$H"
"$CLI" plan --sysfs "$TMP/blog" --level PHB --write --json > "$TMP/w2.json"
check "--write again: unchanged" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["changed"])' "$TMP/w2.json"
"$CLI" plan --sysfs "$TMP/blog" --level SYS --write > /dev/null
check "--write SYS: eight addresses continue on an indented line" grep -q '^    0000:85:00.0' "$H"
printf '[cliques]\nmode = auto\n[map]\n5 = 0000:05:00.0 0000:06:00.0\n' > "$TMP/etc/qemu-p2p.conf"
"$CLI" plan --sysfs "$TMP/blog" --write > /dev/null 2> "$TMP/warn"
check "--write warns: the operator's mode wins" contains "$TMP/warn" "sets mode = auto, which wins"
check "--write warns: the operator's [map] wins" contains "$TMP/warn" "has its own [map], which wins"
setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" plan --sysfs "$TMP/blog" --write 2> "$TMP/err" >/dev/null
check "--write refuses to run unprivileged" contains "$TMP/err" "--write needs root"

# --from-nvidia-smi
"$CLI" plan --from-nvidia-smi "$NVSMI/blog-8gpu-ok.txt" --json > "$TMP/ns.json"
check "nvidia-smi all OK: one group of 8, 8-digit domains normalised" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); g=d["groups"]
sys.exit(not (len(g)==1 and g[0]["gpus"][6]=="0000:f4:00.0" and d["level"] is None and d["dropped_pairs"]==[] and d["source"]=="nvidia-smi"))' "$TMP/ns.json"
"$CLI" plan --from-nvidia-smi "$NVSMI/wrx80-gns.txt" > "$TMP/gns"
check "nvidia-smi GNS: each GPU alone" contains "$TMP/gns" "Group 1: 0000:02:00.0  (alone: no P2P partner)"
"$CLI" plan --from-nvidia-smi "$NVSMI/not-transitive.txt" > "$TMP/nt"
check "not transitive: the partition keeping most OK pairs" contains "$TMP/nt" "Group 1: 0000:06:00.0 0000:76:00.0 0000:77:00.0"
check "not transitive: the dropped OK pair is printed" contains "$TMP/nt" "OK pairs no group can keep (the relation is not transitive)"
check "not transitive: it names the pair" contains "$TMP/nt" "0000:05:00.0-0000:06:00.0"
"$CLI" plan --from-nvidia-smi "$NVSMI/chain-tie.txt" > "$TMP/tie"
check "a tie: the lowest addresses together" contains "$TMP/tie" "Group 0: 0000:05:00.0 0000:85:00.0"
check "a tie: the other OK pair is dropped" contains "$TMP/tie" "can keep (the relation is not transitive): 0000:85:00.0-0000:f4:00.0"
printf ' \tGPU0\tGPU1\n GPU0\tX\tOK\n GPU1\tOK\n' > "$TMP/short.txt"
"$CLI" plan --from-nvidia-smi "$TMP/short.txt" 2> "$TMP/err"; rc=$?
check "a short matrix row: exit 1 and file:line" sh -c "[ $rc -eq 1 ] && grep -q 'short.txt:3: a matrix row with 1 cells where the header has 2 GPUs' '$TMP/err'"
head -4 "$NVSMI/not-transitive.txt" > "$TMP/nobus.txt"; grep GPU "$NVSMI/not-transitive.txt" >> "$TMP/nobus.txt"
"$CLI" plan --from-nvidia-smi "$TMP/nobus.txt" 2> "$TMP/err"
check "no bus ids: says which command to append" contains "$TMP/err" "append the output of \`nvidia-smi --query-gpu=index,pci.bus_id --format=csv\`"
"$CLI" plan --from-nvidia-smi "$TMP/missing.txt" 2> "$TMP/err"
check "a missing file: named" contains "$TMP/err" "missing.txt: No such file or directory"

# ACS (root reads extended config space): egress control on a switch port.
sed 's|^dev 0000:02:01.0/0000:03:00.0/0000:04:01.0 .*|& ext=100:0d:0020|' "$QP2P_SRC/examples/blog-8gpu.host" > "$TMP/acs.host"
python3 "$MKHOST" "$TMP/acs.host" "$TMP/acs"
: > "$TMP/empty.conf"
"$CLI" plan --sysfs "$TMP/acs" --config "$TMP/empty.conf" > "$TMP/acs.out"
check "ACS egress control on a bridge between grouped GPUs is reported" contains "$TMP/acs.out" "0000:04:01.0 (ACS control bits 0x20: egress control)"
check "ACS: the setpci command is given" contains "$TMP/acs.out" "setpci -s"
chmod -R go+rX "$TMP"
setpriv --reuid nobody --regid nogroup --clear-groups "$CLI" plan --sysfs "$TMP/acs" --config "$TMP/empty.conf" > "$TMP/acs.user"
check "ACS unprivileged: says it needs root" contains "$TMP/acs.user" "run as root"

done_testing

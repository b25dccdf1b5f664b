#!/bin/sh
# make demo: the main job on the bundled example host (no GPU needed).
# Builds the sysfs tree of the blog's 8-GPU server, shows its topology and
# the plans qemu-p2p derives (from sysfs, and from the blog's bare-metal
# nvidia-smi output), records host facts, and shows the QEMU command line of
# an 8-GPU VM that real libvirt generated, before and after the wrapper.
# Ends with the commands to type next on the same tree.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
demo=$build/demo
cli=$build/src/cli/qemu-p2p
rm -rf "$demo"
mkdir -p "$demo/etc/qemu-p2p.d"
python3 "$src/tests/fixtures/mkhost.py" "$src/examples/blog-8gpu.host" "$demo/sys"
cp "$src/examples/qemu-p2p.conf" "$demo/etc/qemu-p2p.conf"
chmod 644 "$demo/etc/qemu-p2p.conf"
export QEMU_P2P_CONFIG=$demo/etc/qemu-p2p.conf QEMU_P2P_SYSFS=$demo/sys

echo "== qemu-p2p topo: the PCIe links between the GPUs, from sysfs alone"
"$cli" topo
echo
echo "== qemu-p2p plan: groups from the topology (level auto)"
"$cli" plan
echo
echo "== qemu-p2p plan --from-nvidia-smi: the blog's bare-metal 'all OK' beats the guess"
"$cli" plan --from-nvidia-smi "$src/tests/fixtures/nvsmi/blog-8gpu-ok.txt"
echo "(the bundled configuration holds that map: one group of eight)"
echo
echo "== The VM: 8 GPUs as libvirt writes them (virsh domxml-to-native, embedded driver)"
sh "$src/tools/libvirt-native.sh" "$src/examples/gpu8-domain.xml" "$demo/libvirt" > "$demo/virsh.txt"
# (libvirt's environment shortened: PATH and the per-domain directories)
sed 's|PATH=[^ ]* HOME=.* \(/usr/bin/qemu-system\)|PATH=... HOME=... \1|' "$demo/virsh.txt" | fold -w 120

echo
echo "== qemu-p2p refresh with this machine's QEMU ($(qemu-system-x86_64 -version | head -n 1))"
"$cli" refresh
echo
echo "== What the wrapper does on QEMU 7.2 (Blackwell GPUs keep MSI-X at 0xC8):"
"$cli" rewrite --explain --virsh "$demo/virsh.txt" > /dev/null

echo
echo "== The same host with QEMU 8.2 (a stand-in that answers -version as 8.2.2)"
printf '#!/bin/sh\necho "QEMU emulator version 8.2.2"\n' > "$demo/qemu-8.2"
chmod 755 "$demo/qemu-8.2"
"$cli" refresh --qemu "$demo/qemu-8.2" > /dev/null
"$cli" rewrite --explain --qemu "$demo/qemu-8.2" --virsh "$demo/virsh.txt" > "$demo/argv.new"
echo
echo "== The -device arguments QEMU gets:"
grep -F 'vfio-pci' "$demo/argv.new"

echo
echo "== What the guest sees: qemu-p2p-guest cliques (inside the VM, as root). A model of"
echo "   the guest: each GPU on a root port of its own, as libvirt places them, carrying"
echo "   the capability QEMU adds for x-nv-gpudirect-clique (tools/guest-view.py)"
python3 "$src/tools/guest-view.py" "$demo/argv.new" > "$demo/guest.host"
python3 "$src/tests/fixtures/mkhost.py" "$demo/guest.host" "$demo/guest-sys"
"$build/src/guest/qemu-p2p-guest" cliques --sysfs "$demo/guest-sys"
echo
echo "== The NCCL topology it writes: qemu-p2p-guest nccl-topo (here to stdout; in the VM"
echo "   to /var/run/nvidia-topologyd/virtualTopology.xml, read by NCCL >= 2.10.3)"
"$build/src/guest/qemu-p2p-guest" nccl-topo --sysfs "$demo/guest-sys" --nccl-version 2.23.4 -o - 2> "$demo/nccl-report"
sed -n '/^GPU pair/,$p' "$demo/nccl-report" | head -n 4
echo "... $(grep -c 'PHB  no P2P (staged)    PIX: P2P' "$demo/nccl-report") of $(grep -c '^0000:' "$demo/nccl-report") pairs: PHB today (NCCL 2.23.4 stages through host memory), PIX with the file (P2P)"

# The commands, with the options that reach this tree instead of the host's
# /sys and /etc (plain `qemu-p2p topo` here says "No NVIDIA GPU found").
case $build in "$src"/*) b=${build#"$src"/} ;; *) b=$build ;; esac
cat << EOF

== Next: the same host by hand (the tree is $b/demo; qemu-p2p is not installed: make deb)
   alias qemu-p2p=$build/src/cli/qemu-p2p
   qemu-p2p topo --sysfs $b/demo/sys
   qemu-p2p topo --sysfs $b/demo/sys --json
   qemu-p2p plan --sysfs $b/demo/sys -c $b/demo/etc/qemu-p2p.conf --level PXB
   qemu-p2p doctor --sysfs $b/demo/sys -c $b/demo/etc/qemu-p2p.conf --qemu $b/demo/qemu-8.2
   qemu-p2p rewrite --explain --virsh $b/demo/virsh.txt --sysfs $b/demo/sys -c $b/demo/etc/qemu-p2p.conf --qemu $b/demo/qemu-8.2 > /dev/null
   man -l $b/man/qemu-p2p.8
   With the package installed, its copy of this host: qemu-p2p topo --sysfs /usr/share/qemu-p2p/example/sys
EOF

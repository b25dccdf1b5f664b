#!/bin/bash
# Runs inside L2, the VM the wrapper started in the lab (switched into the
# host's root, over two layers of 9p under an overlay; /sys is L2's own): what the
# guest sees of the devices passed through with cliques. Prints its output
# between markers for inside.sh to read from L2's console.
build=$1
echo "lab-guest: begin"
"$build/src/guest/qemu-p2p-guest" cliques --json
echo "lab-guest: cliques exit $?"
echo "lab-guest: end"

/* qemu-p2p-guest: the guest half. Runs inside a VM whose GPUs qemu-p2p gave
 * cliques: shows them, writes the NCCL topology that makes NCCL take the
 * P2P path they open, checks that the driver grants what they promise, and
 * at every boot proves that data lands before NCCL is sent that way. A
 * table of subcommands, one file each. */
#include "commands.h"

static const struct cli_command commands[] = {
	{ "cliques", cmd_cliques, "the GPUs of this VM and the clique id each got (config space; root)" },
	{ "nccl-topo", cmd_nccl_topo, "write the NCCL topology: each clique's GPUs under one PCIe switch" },
	{ "check", cmd_check, "compare cliques with the P2P access the NVIDIA driver grants, pair by pair" },
	{ "boot", cmd_boot, "at boot: test P2P data pair by pair; the topology file, or NCCL's P2P off" },
	{ "status", cmd_status, "what boot found and did at this boot" },
};

int main(int argc, char **argv)
{
	return cli_dispatch(commands, ARRAY_SIZE(commands),
			    "Inside a VM: the GPUDirect P2P cliques QEMU gave its GPUs, and what NCCL and the\n"
			    "NVIDIA driver make of them.",
			    argc, argv);
}

/* qemu-p2p: the operator's command. A table of subcommands; each lives in
 * its own cmd_*.c file and parses its own options. */
#include "commands.h"

static const struct cli_command commands[] = {
	{ "refresh", cmd_refresh, "record host facts (QEMU version, GPUs' capability layout); root" },
	{ "rewrite", cmd_rewrite, "print the QEMU argv the wrapper would exec" },
	{ "capture", cmd_capture, "pack this host's PCI tree and settings for a bug report" },
	{ "doctor", cmd_doctor, "check every layer P2P depends on and say what to change" },
	{ "install", cmd_install, "activate the wrapper (shadow or divert), AppArmor rules, self-test; root" },
	{ "plan", cmd_plan, "group GPUs that may share a clique; --write records them as the map" },
	{ "status", cmd_status, "install mode, wrapper, real QEMU, facts, configuration, domains" },
	{ "topo", cmd_topo, "show the PCIe links between GPUs, from sysfs" },
	{ "uninstall", cmd_uninstall, "undo install without stranding defined domains; root" },
	{ "vms", cmd_vms, "running VMs, their GPUs and the cliques they got" },
};

int main(int argc, char **argv)
{
	return cli_dispatch(commands, ARRAY_SIZE(commands), "GPUDirect P2P cliques for GPUs passed through to QEMU.",
			    argc, argv);
}

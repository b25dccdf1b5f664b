/* qemu-p2p: the operator's command. A table of subcommands; each lives in
 * its own cmd_*.c file and parses its own options. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
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

static void usage(FILE *out)
{
	fprintf(out, "Usage: qemu-p2p COMMAND [OPTIONS]\n\n"
		     "GPUDirect P2P cliques for GPUs passed through to QEMU.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nOptions:\n  -h, --help     show this help\n  -V, --version  show the version\n"
		     "\nRun \"qemu-p2p COMMAND --help\" for a command's options. See qemu-p2p(8).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("qemu-p2p %s\n", QEMU_P2P_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "qemu-p2p: unknown command '%s'; run \"qemu-p2p --help\"\n", argv[1]);
	return EXIT_USAGE;
}

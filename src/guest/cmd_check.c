/* qemu-p2p-guest check: what the cliques promise against what the NVIDIA
 * driver grants (cuDeviceCanAccessPeer, both ways), pair by pair. The
 * driver is loaded at run time as p2pbench loads it (src/p2pbench). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "peers.h"
#include "sysfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p-guest check [OPTIONS]\n\n"
	       "For each pair of GPUs, compare the cliques (config space) with the P2P access\n"
	       "the NVIDIA driver grants (cuDeviceCanAccessPeer, both ways): granted as the\n"
	       "cliques say, LOST (one clique, refused: the driver ignores cliques when the guest\n"
	       "sees no hypervisor), or none expected (different cliques, a GPU without one).\n"
	       "Reads config space: run as root. Exit status: 0 as the cliques say, 1 a pair\n"
	       "lost, 2 no NVIDIA driver or GPU.\n\n"
	       "Options:\n"
	       "      --sysfs DIR  sysfs root (default /sys)\n"
	       "      --proc DIR   proc root (default /proc), for cpuinfo's hypervisor flag\n"
	       "  -j, --json       print one JSON object\n"
	       "  -h, --help       show this help\n");
}

static struct json_object *pair_json(const struct guest *g, size_t i, size_t k, bool granted,
				     const struct peer_verdict *v)
{
	struct json_object *o = json_object_new_object();
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];
	int ca = g->gpus[i].clique, cb = g->gpus[k].clique;

	json_object_object_add(o, "a", json_object_new_string(pci_addr_format(&g->gpus[i].fn->addr, a)));
	json_object_object_add(o, "b", json_object_new_string(pci_addr_format(&g->gpus[k].fn->addr, b)));
	json_object_object_add(o, "clique_a", ca >= 0 ? json_object_new_int(ca) : NULL);
	json_object_object_add(o, "clique_b", cb >= 0 ? json_object_new_int(cb) : NULL);
	json_object_object_add(o, "expected", json_object_new_boolean(v->expected));
	json_object_object_add(o, "granted", json_object_new_boolean(granted));
	json_object_object_add(o, "verdict", json_object_new_string(v->verdict));
	json_object_object_add(o, "why", json_object_new_string(v->why));
	return o;
}

static int check(struct cuda *cu, const struct guest *g, int proc, bool json)
{
	int dev[g->n_gpus + 1], lost = 0;
	bool hypervisor = peers_sees_hypervisor(proc);
	struct json_object *arr = json_object_new_array();
	char msg[256], a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	if (peers_map(cu, g, dev, msg, sizeof(msg)) < 0) {
		cli_error("no usable NVIDIA driver: %s", msg);
		json_object_put(arr);
		return 2;
	}
	if (!json)
		printf("The guest %s a hypervisor.\n%-29s %-9s %-8s %s\n", hypervisor ? "sees" : "does not see",
		       "GPU pair", "cliques", "driver", "verdict");
	for (size_t i = 0; i < g->n_gpus; i++) {
		for (size_t k = i + 1; k < g->n_gpus; k++) {
			bool granted = peers_granted(cu, dev[i], dev[k]);
			struct peer_verdict v = peers_judge(g, i, k, dev[i] >= 0 && dev[k] >= 0, granted, hypervisor);

			lost += !strcmp(v.verdict, "LOST");
			if (json) {
				json_object_array_add(arr, pair_json(g, i, k, granted, &v));
				continue;
			}
			printf("%s-%-16s %-9s %-8s %s: %s\n", pci_addr_format(&g->gpus[i].fn->addr, a),
			       pci_addr_format(&g->gpus[k].fn->addr, b), peers_cliques_text(g, i, k, msg, sizeof(msg)),
			       granted ? "P2P" : "no P2P", v.verdict, v.why);
		}
	}
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_int(1));
		json_object_object_add(o, "hypervisor", json_object_new_boolean(hypervisor));
		json_object_object_add(o, "pairs", arr);
		json_object_object_add(o, "lost", json_object_new_int(lost));
		cli_print_json(o);
	} else {
		json_object_put(arr);
		printf("\n%s\n", lost ? "A pair of one clique gets no P2P." : "Every pair is as its cliques say.");
	}
	return lost ? 1 : 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *sysroot = NULL, *procroot = NULL;
	_cleanup_close_ int sysfs = -1, proc = -1;
	struct cuda cu = { 0 };
	struct guest g;
	char msg[256];
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "jh", longs, NULL)) != -1) {
		switch (c) {
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("check", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("check", "unexpected argument '%s'", argv[optind]);
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &sysfs) < 0 || cli_open_root(procroot, "/proc", &proc) < 0)
		return 2;
	if ((r = guestscan_usable(sysfs, &g)))
		return r;
	if (cuda_load(&cu, msg, sizeof(msg)) < 0) {
		cli_error("%s", msg);
		r = 2;
	} else {
		r = check(&cu, &g, proc, json);
	}
	guest_free(&g);
	return r;
}

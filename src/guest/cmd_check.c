/* qemu-p2p-guest check: what the cliques promise against what the NVIDIA
 * driver grants (cuDeviceCanAccessPeer, both ways), pair by pair. The
 * driver is loaded at run time as p2pbench loads it (src/p2pbench). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "cudaload.h"
#include "guestscan.h"
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

struct pair {
	int a, b;      /* guest GPU indexes */
	bool expected; /* one clique */
	bool granted;  /* the driver allows access both ways */
	const char *verdict, *why;
};

/* The CUDA device of each guest GPU (-1: CUDA does not list it). */
static int map_devices(const struct cuda *cu, const struct guest *g, int *dev, char *msg, size_t size)
{
	int count = 0;
	CUresult r = cu->Init(0);

	if (r == CUDA_SUCCESS)
		r = cu->DeviceGetCount(&count);
	if (r != CUDA_SUCCESS || count == 0) {
		snprintf(msg, size, "%s", r != CUDA_SUCCESS ? cuda_error(cu, r) : "the driver sees no GPU");
		return -1;
	}
	for (size_t i = 0; i < g->n_gpus; i++)
		dev[i] = -1;
	for (int d = 0; d < count; d++) {
		char bus[32] = "";
		struct pci_addr a;
		CUdevice h;
		int gi;

		if (cu->DeviceGet(&h, d) == CUDA_SUCCESS &&
		    cu->DeviceGetPCIBusId(bus, sizeof(bus), h) == CUDA_SUCCESS && pci_addr_parse_sysfs(bus, &a) == 0 &&
		    (gi = guest_find(g->gpus, g->n_gpus, &a)) >= 0)
			dev[gi] = h;
	}
	return 0;
}

static bool sees_hypervisor(int proc)
{
	_cleanup_free_ char *cpu = NULL;

	return proc >= 0 && read_file_at(proc, "cpuinfo", 1 << 22, &cpu, NULL) == 0 && strstr(cpu, " hypervisor");
}

static void judge(struct pair *p, const struct guest *g, bool hypervisor)
{
	int ca = g->gpus[p->a].clique, cb = g->gpus[p->b].clique;

	p->expected = ca >= 0 && ca == cb;
	if (p->expected && p->granted) {
		p->verdict = "granted";
		p->why = "P2P, as the clique says";
	} else if (p->expected) {
		p->verdict = "LOST";
		p->why =
			hypervisor
				? "one clique, but the driver refuses (its version or the GPU model does not honour cliques)"
				: "one clique, but the guest sees no hypervisor (-cpu kvm=off, libvirt <hidden "
				  "state='on'/>, Proxmox hidden=1): the driver ignores cliques";
	} else if (p->granted) {
		p->verdict = "granted";
		p->why = "P2P without a common clique (NVLink, or a driver that needs none)";
	} else {
		p->verdict = "none expected";
		p->why = ca < 0 || cb < 0 ? "a GPU without a clique" : "different cliques";
	}
}

/* "0/1", "0/-": the two ids, '-' for none. */
static const char *cliques_text(const struct guest *g, size_t i, size_t k, char *buf, size_t size)
{
	char x[12] = "-", y[12] = "-";

	if (g->gpus[i].clique >= 0)
		snprintf(x, sizeof(x), "%d", g->gpus[i].clique);
	if (g->gpus[k].clique >= 0)
		snprintf(y, sizeof(y), "%d", g->gpus[k].clique);
	snprintf(buf, size, "%s/%s", x, y);
	return buf;
}

static struct json_object *pair_json(const struct pair *p, const struct guest *g)
{
	struct json_object *o = json_object_new_object();
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];
	int ca = g->gpus[p->a].clique, cb = g->gpus[p->b].clique;

	json_object_object_add(o, "a", json_object_new_string(pci_addr_format(&g->gpus[p->a].fn->addr, a)));
	json_object_object_add(o, "b", json_object_new_string(pci_addr_format(&g->gpus[p->b].fn->addr, b)));
	json_object_object_add(o, "clique_a", ca >= 0 ? json_object_new_int(ca) : NULL);
	json_object_object_add(o, "clique_b", cb >= 0 ? json_object_new_int(cb) : NULL);
	json_object_object_add(o, "expected", json_object_new_boolean(p->expected));
	json_object_object_add(o, "granted", json_object_new_boolean(p->granted));
	json_object_object_add(o, "verdict", json_object_new_string(p->verdict));
	json_object_object_add(o, "why", json_object_new_string(p->why));
	return o;
}

static int check(const struct cuda *cu, const struct guest *g, int proc, bool json)
{
	int dev[g->n_gpus + 1], lost = 0;
	bool hypervisor = sees_hypervisor(proc);
	struct json_object *arr = json_object_new_array();
	char msg[256], a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	if (map_devices(cu, g, dev, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "qemu-p2p-guest check: %s\n", msg);
		json_object_put(arr);
		return 2;
	}
	if (!json)
		printf("The guest %s a hypervisor.\n%-29s %-9s %-8s %s\n", hypervisor ? "sees" : "does not see",
		       "GPU pair", "cliques", "driver", "verdict");
	for (size_t i = 0; i < g->n_gpus; i++) {
		for (size_t k = i + 1; k < g->n_gpus; k++) {
			struct pair p = { .a = (int)i, .b = (int)k };
			int ab = 0, ba = 0;

			if (dev[i] >= 0 && dev[k] >= 0 && cu->DeviceCanAccessPeer(&ab, dev[i], dev[k]) == CUDA_SUCCESS)
				cu->DeviceCanAccessPeer(&ba, dev[k], dev[i]);
			p.granted = ab && ba;
			judge(&p, g, hypervisor);
			lost += !strcmp(p.verdict, "LOST");
			if (json) {
				json_object_array_add(arr, pair_json(&p, g));
				continue;
			}
			printf("%s-%-16s %-9s %-8s %s: %s\n", pci_addr_format(&g->gpus[i].fn->addr, a),
			       pci_addr_format(&g->gpus[k].fn->addr, b), cliques_text(g, i, k, msg, sizeof(msg)),
			       p.granted ? "P2P" : "no P2P", p.verdict, p.why);
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
	if ((r = guestscan_usable(sysfs, "check", &g)))
		return r;
	if (cuda_load(&cu, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "qemu-p2p-guest check: %s\n", msg);
		r = 2;
	} else {
		r = check(&cu, &g, proc, json);
	}
	guest_free(&g);
	return r;
}

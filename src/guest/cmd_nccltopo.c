/* qemu-p2p-guest nccl-topo: writes the NCCL topology of this VM (see
 * ncclxml.h) where NCCL looks without NCCL_TOPO_FILE, and says, pair by
 * pair, which path NCCL sees today and with the file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "commands.h"
#include "guestscan.h"
#include "ncclxml.h"
#include "sysfs.h"
#include "topo.h"

#define MAX_NODES 64

static void help(void)
{
	printf("Usage: qemu-p2p-guest nccl-topo [OPTIONS]\n\n"
	       "Write the NCCL topology of this VM: the GPUs of each clique under one synthetic\n"
	       "PCIe switch, so that NCCL, whose default P2P level is PXB (GPUs under one\n"
	       "switch), uses P2P between them instead of staging through host memory. Each GPU\n"
	       "keeps its bus id; GPUs without a clique are left where they are. NCCL 2.10.3 and\n"
	       "newer read the default file without any environment variable (or set\n"
	       "NCCL_TOPO_FILE). Reads config space: run as root.\n\n"
	       "Options:\n"
	       "  -o, --output FILE         where to write (default %s;\n"
	       "                            - for stdout)\n"
	       "      --nic-with GPU=NIC    put network function NIC (a passed-through ConnectX)\n"
	       "                            beside GPU, for GPUDirect RDMA; repeatable\n"
	       "      --sysfs DIR           sysfs root (default /sys)\n"
	       "  -q, --quiet               no report\n"
	       "  -h, --help                show this help\n",
	       NCCL_TOPO_DEFAULT_PATH);
}

struct opts {
	const char *output, *sysfs;
	struct pci_addr pairs[2 * NCCL_MAX_SWITCHES]; /* GPU, NIC, GPU, NIC ... */
	size_t n_pairs;
	bool quiet;
};

static int parse_addr(const char *s, struct pci_addr *a)
{
	return pci_addr_parse_qemu(s, a) == 0 || pci_addr_parse_sysfs(s, a) == 0 ? 0 : -1;
}

static int add_nic(struct opts *o, const char *arg)
{
	char gpu[64];
	const char *eq = strchr(arg, '=');

	if (!eq || (size_t)(eq - arg) >= sizeof(gpu) || o->n_pairs + 2 > ARRAY_SIZE(o->pairs))
		return cli_usage("nccl-topo", "--nic-with %s: write GPU=NIC, e.g. 0000:01:00.0=0000:05:00.0", arg);
	snprintf(gpu, sizeof(gpu), "%.*s", (int)(eq - arg), arg);
	if (parse_addr(gpu, &o->pairs[o->n_pairs]) < 0 || parse_addr(eq + 1, &o->pairs[o->n_pairs + 1]) < 0)
		return cli_usage("nccl-topo", "--nic-with %s: GPU and NIC are PCI addresses (DDDD:BB:SS.F)", arg);
	o->n_pairs += 2;
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' }, { "nic-with", required_argument, NULL, 'n' },
		{ "sysfs", required_argument, NULL, 's' },  { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	int c, r;

	o->output = NCCL_TOPO_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "o:qh", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 's': o->sysfs = optarg; break;
		case 'q': o->quiet = true; break;
		case 'n':
			if ((r = add_nic(o, optarg)))
				return r;
			break;
		case 'h': help(); return -1;
		default: return cli_bad_option("nccl-topo", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("nccl-topo", "unexpected argument '%s'", argv[optind]);
	return 0;
}

static struct nccl_dev dev_of(const struct guest_fn *g)
{
	struct nccl_dev d = { .addr = g->fn->addr,
			      .cls = g->fn->cls,
			      .numa = g->fn->numa,
			      .width = g->width,
			      .clique = g->clique >= 0 ? g->clique : -1,
			      .beside = -1,
			      .sw = -1 };

	snprintf(d.speed, sizeof(d.speed), "%s", g->speed);
	return d;
}

/* The GPU a NIC goes beside, by the operator's pairs; 1 on a bad pair. */
static int place_nics(const struct opts *o, const struct guest *g, struct nccl_dev *nics)
{
	char a[PCI_ADDR_STRLEN];

	for (size_t p = 0; p < o->n_pairs; p += 2) {
		int gi = guest_find(g->gpus, g->n_gpus, &o->pairs[p]),
		    ni = guest_find(g->nics, g->n_nics, &o->pairs[p + 1]);

		if (gi < 0 || ni < 0) {
			fprintf(stderr,
				"qemu-p2p-guest nccl-topo: --nic-with: no %s at %s in this VM (see qemu-p2p-guest cliques)\n",
				gi < 0 ? "NVIDIA GPU" : "network function",
				pci_addr_format(&o->pairs[p + (gi < 0 ? 0 : 1)], a));
			return 1;
		}
		nics[ni].beside = gi;
	}
	return 0;
}

/* NCCL's view of a pair, in nvidia-smi's words; "?" where a GPU's place in
 * the tree is unknown. */
static const char *today(const struct guest_fn *a, const struct guest_fn *b)
{
	return a->fn->placed && b->fn->placed ? link_level_name(topo_link(&a->fn->node, &b->fn->node)) : "?";
}

static void report(FILE *out, const struct guest *g, const struct nccl_dev *gpus, const struct nccl_switch *sw,
		   size_t n_sw)
{
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	fprintf(out,
		"NCCL uses P2P between two GPUs only up to its level PXB (under one PCIe switch).\n"
		"%-29s %-9s %-22s %s\n",
		"GPU pair", "cliques", "today", "with this file");
	for (size_t i = 0; i < g->n_gpus; i++) {
		for (size_t k = i + 1; k < g->n_gpus; k++) {
			const char *now = today(&g->gpus[i], &g->gpus[k]);
			bool allowed = strcmp(now, "PIX") == 0 || strcmp(now, "PXB") == 0;
			bool joined = gpus[i].sw >= 0 && gpus[i].sw == gpus[k].sw;
			char cl[16];

			snprintf(cl, sizeof(cl), "%d/%d", gpus[i].clique, gpus[k].clique);
			fprintf(out, "%s-%-16s %-9s %-4s %-17s %s\n", pci_addr_format(&g->gpus[i].fn->addr, a),
				pci_addr_format(&g->gpus[k].fn->addr, b),
				gpus[i].clique < 0 || gpus[k].clique < 0 ? "-" : cl, now,
				allowed ? "P2P" : "no P2P (staged)",
				joined    ? "PIX: P2P"
				: allowed ? "unchanged: P2P"
					  : "unchanged: no common clique");
		}
	}
	for (size_t s = 0; s < n_sw; s++)
		if (sw[s].mixed_numa)
			fprintf(out,
				"Clique %d spans NUMA nodes: its switch sits on node %ld, so NCCL may pin the\n"
				"threads of its other GPUs to node %ld's CPUs.\n",
				sw[s].clique, sw[s].numa, sw[s].numa);
}

static int write_out(const char *path, const struct strbuf *xml)
{
	struct err e = { { 0 } };

	if (!strcmp(path, "-"))
		return fputs(xml->s, stdout) < 0 ? 1 : 0;
	if (atomic_write(path, xml->s, xml->len, 0644, &e) < 0) {
		fprintf(stderr, "qemu-p2p-guest nccl-topo: %s%s\n", e.msg,
			access(path, W_OK) < 0 && geteuid() ? " (run as root)" : "");
		return 1;
	}
	return 0;
}

static int build(int sysfs, const struct opts *o, const struct guest *g)
{
	struct nccl_dev gpus[g->n_gpus + 1], nics[g->n_nics + 1];
	struct nccl_switch sw[NCCL_MAX_SWITCHES];
	char maps[MAX_NODES][128];
	const char *cpumaps[MAX_NODES];
	struct strbuf xml = { 0 };
	size_t n_sw;
	int r;

	for (size_t i = 0; i < g->n_gpus; i++)
		gpus[i] = dev_of(&g->gpus[i]);
	for (size_t i = 0; i < g->n_nics; i++)
		nics[i] = dev_of(&g->nics[i]);
	if (place_nics(o, g, nics))
		return 1;
	for (long n = 0; n < MAX_NODES; n++) {
		guestscan_cpumap(sysfs, n, maps[n], sizeof(maps[n]));
		cpumaps[n] = maps[n];
	}
	n_sw = nccl_group(gpus, g->n_gpus, nics, g->n_nics, sw, ARRAY_SIZE(sw));
	nccl_xml(sw, n_sw, gpus, g->n_gpus, nics, g->n_nics, cpumaps, MAX_NODES, &xml);
	if (!xml.s)
		return 1;
	r = write_out(o->output, &xml);
	if (r == 0 && !o->quiet) {
		FILE *out = strcmp(o->output, "-") ? stdout : stderr;

		if (strcmp(o->output, "-"))
			fprintf(out,
				"Wrote %s: %zu synthetic switch%s. NCCL 2.10.3 and newer read %s without\n"
				"NCCL_TOPO_FILE; elsewhere, set NCCL_TOPO_FILE=%s.\n\n",
				o->output, n_sw, n_sw == 1 ? "" : "es", NCCL_TOPO_DEFAULT_PATH, o->output);
		report(out, g, gpus, sw, n_sw);
	}
	sb_free(&xml);
	return r;
}

int cmd_nccl_topo(int argc, char **argv)
{
	struct opts o = { 0 };
	_cleanup_close_ int sysfs = -1;
	struct guest g;
	int r = parse(argc, argv, &o);

	if (r)
		return r < 0 ? 0 : r;
	if (cli_open_root(o.sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0)
		return 1;
	if (guestscan_usable(sysfs, "nccl-topo", &g))
		return 1;
	r = build(sysfs, &o, &g);
	guest_free(&g);
	return r;
}

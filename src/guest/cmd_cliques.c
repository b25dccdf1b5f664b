/* qemu-p2p-guest cliques: every NVIDIA GPU of this VM with its address,
 * NUMA node and the clique id QEMU gave it, read from config space (the
 * vendor capability with the "P2P" signature); and the network functions,
 * for nccl-topo --nic-with. */
#include <stdio.h>

#include "commands.h"
#include "guestscan.h"
#include "sysfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p-guest cliques [OPTIONS]\n\n"
	       "List the NVIDIA GPUs of this VM: address, NUMA node and the clique id QEMU gave\n"
	       "each (x-nv-gpudirect-clique, read from config space; the NVIDIA driver allows P2P\n"
	       "between GPUs of one clique). Reading past the first 64 bytes of config space\n"
	       "needs root: unprivileged, the ids show as unknown. Also lists network functions.\n"
	       "Exit status: 0, or 1 when there is no GPU or an id could not be read.\n\n"
	       "Options:\n"
	       "      --sysfs DIR  sysfs root (default /sys)\n"
	       "  -j, --json       print one JSON object\n"
	       "  -h, --help       show this help\n");
}

static const char *clique_text(int clique, char *buf, size_t size)
{
	if (clique == GUEST_NO_CLIQUE)
		return "none";
	if (clique == GUEST_UNREADABLE)
		return "unknown (needs root)";
	snprintf(buf, size, "%d", clique);
	return buf;
}

/* PCI ids and classes as lspci -n prints them ("10de", "030200"), as every
 * qemu-p2p tool writes them. */
static struct json_object *hex(unsigned long v, int digits)
{
	char s[16];

	snprintf(s, sizeof(s), "%0*lx", digits, v);
	return json_object_new_string(s);
}

static struct json_object *fn_json(const struct guest_fn *g, bool gpu)
{
	struct json_object *o = json_object_new_object();
	char a[PCI_ADDR_STRLEN];

	json_object_object_add(o, "address", json_object_new_string(pci_addr_format(&g->fn->addr, a)));
	json_object_object_add(o, "vendor_id", hex(g->fn->vendor, 4));
	json_object_object_add(o, "device_id", hex(g->fn->device, 4));
	json_object_object_add(o, "class", hex(g->fn->cls, 6));
	json_object_object_add(o, "numa_node", json_object_new_int64(g->fn->numa));
	if (gpu) {
		const char *status = g->clique >= 0 ? "set" : g->clique == GUEST_NO_CLIQUE ? "none" : "unreadable";

		json_object_object_add(o, "clique", g->clique >= 0 ? json_object_new_int(g->clique) : NULL);
		json_object_object_add(o, "clique_status", json_object_new_string(status));
	}
	return o;
}

static void print_text(const struct guest *g)
{
	char a[PCI_ADDR_STRLEN], id[16];

	printf("GPU  ADDRESS       NUMA  CLIQUE\n");
	for (size_t i = 0; i < g->n_gpus; i++)
		printf("%-4zu %-13s %-5ld %s\n", i, pci_addr_format(&g->gpus[i].fn->addr, a), g->gpus[i].fn->numa,
		       clique_text(g->gpus[i].clique, id, sizeof(id)));
	for (size_t i = 0; i < g->n_nics; i++)
		printf("NIC  %-13s %-5ld %04x:%04x class 0x%06lx\n", pci_addr_format(&g->nics[i].fn->addr, a),
		       g->nics[i].fn->numa, g->nics[i].fn->vendor, g->nics[i].fn->device, g->nics[i].fn->cls);
}

static int report(const struct guest *g, bool json)
{
	bool unreadable = false;

	for (size_t i = 0; i < g->n_gpus; i++)
		unreadable |= g->gpus[i].clique == GUEST_UNREADABLE;
	if (json) {
		struct json_object *o = json_object_new_object(), *gpus = json_object_new_array(),
				   *nics = json_object_new_array();

		for (size_t i = 0; i < g->n_gpus; i++)
			json_object_array_add(gpus, fn_json(&g->gpus[i], true));
		for (size_t i = 0; i < g->n_nics; i++)
			json_object_array_add(nics, fn_json(&g->nics[i], false));
		json_object_object_add(o, "version", json_object_new_int(1));
		json_object_object_add(o, "gpus", gpus);
		json_object_object_add(o, "nics", nics);
		cli_print_json(o);
	} else if (!g->n_gpus) {
		printf("No NVIDIA GPU in this VM.\n");
	} else {
		print_text(g);
		if (unreadable)
			printf("\nClique ids live past the first 64 bytes of config space, which only root may\n"
			       "read: run qemu-p2p-guest cliques as root.\n");
	}
	return !g->n_gpus || unreadable ? 1 : 0;
}

int cmd_cliques(int argc, char **argv)
{
	struct cli_view v;
	struct guest g;
	int r = cli_view_open(argc, argv, "cliques", help, &v);
	_cleanup_close_ int sysfs = v.sysfs;

	if (r >= 0)
		return r;
	if ((r = guestscan_read(sysfs, &g)) < 0) {
		cli_error("cannot list PCI functions under the sysfs root: %s", err_text(r));
		return 1;
	}
	r = report(&g, v.json);
	guest_free(&g);
	return r;
}

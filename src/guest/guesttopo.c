/* The topology file from the guest's view (see guesttopo.h). */
#include "guesttopo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cliout.h"
#include "rootfs.h"

#define MAX_NODES 64

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

/* The GPU each NIC goes beside, by the operator's pairs; 1 on a bad pair. */
static int place_nics(const struct guest *g, const struct pci_addr *pairs, size_t n, struct nccl_dev *nics)
{
	char a[PCI_ADDR_STRLEN];

	for (size_t p = 0; p < 2 * n; p += 2) {
		int gi = guest_find(g->gpus, g->n_gpus, &pairs[p]), ni = guest_find(g->nics, g->n_nics, &pairs[p + 1]);

		if (gi < 0 || ni < 0) {
			cli_error("--nic-with: no %s at %s in this VM (see qemu-p2p-guest cliques)",
				  gi < 0 ? "NVIDIA GPU" : "network function",
				  pci_addr_format(&pairs[p + (gi >= 0)], a));
			return 1;
		}
		nics[ni].beside = gi;
	}
	return 0;
}

int guest_topo_build(int sysfs, const struct guest *g, const struct pci_addr *nic_with, size_t n, struct guest_topo *t)
{
	char maps[MAX_NODES][128];
	const char *cpumaps[MAX_NODES];

	*t = (struct guest_topo){ .gpus = calloc(g->n_gpus + 1, sizeof(*t->gpus)),
				  .nics = calloc(g->n_nics + 1, sizeof(*t->nics)) };
	if (!t->gpus || !t->nics) {
		guest_topo_free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->n_gpus; i++)
		t->gpus[i] = dev_of(&g->gpus[i]);
	for (size_t i = 0; i < g->n_nics; i++)
		t->nics[i] = dev_of(&g->nics[i]);
	if (place_nics(g, nic_with, n, t->nics)) {
		guest_topo_free(t);
		return 1;
	}
	for (long node = 0; node < MAX_NODES; node++) {
		guestscan_cpumap(sysfs, node, maps[node], sizeof(maps[node]));
		cpumaps[node] = maps[node];
	}
	t->n_sw = nccl_group(t->gpus, g->n_gpus, t->nics, g->n_nics, t->sw, ARRAY_SIZE(t->sw));
	nccl_xml(t->sw, t->n_sw, t->gpus, g->n_gpus, t->nics, g->n_nics, cpumaps, MAX_NODES, &t->xml);
	if (!t->xml.s || t->xml.oom) {
		guest_topo_free(t);
		return -ENOMEM;
	}
	return 0;
}

void guest_topo_free(struct guest_topo *t)
{
	free(t->gpus);
	free(t->nics);
	sb_free(&t->xml);
	*t = (struct guest_topo){ 0 };
}

int guest_topo_install(int root, const struct guest_topo *t, struct err *e)
{
	_cleanup_close_ int dir = -1;
	int r = rootfs_dir(root, NCCL_TOPO_DIR, true, &dir, e);

	if (r == 0 && (r = rootfs_replace(dir, NCCL_TOPO_NAME, t->xml.s, t->xml.len, 0644, (uid_t)-1, (gid_t)-1)) < 0)
		err_set(e, "%s", strerror(-r));
	return r;
}

int guest_topo_uninstall(int root, struct err *e)
{
	_cleanup_close_ int dir = -1;
	struct err why = { { 0 } };
	int r = rootfs_dir(root, NCCL_TOPO_DIR, false, &dir, &why);

	if (r == -ENOENT)
		return 0;
	if (r == 0 && (r = rootfs_remove(dir, NCCL_TOPO_NAME)) < 0)
		err_set(&why, "%s", strerror(-r));
	if (r < 0)
		err_set(e, "%s", why.msg);
	return r;
}

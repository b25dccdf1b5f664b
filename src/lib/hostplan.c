/* Grouping (see hostplan.h): the one place that answers which group each
 * GPU is in. */
#include "hostplan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "sysfs.h"
#include "topo.h"
#include "util.h"

/* In place: the members of each new group are marked -(id + 2) as they are
 * found, which no label still to read (>= 0) can equal, then unmarked. */
void hostplan_dense(int *labels, size_t n)
{
	int next = 0;

	for (size_t i = 0; i < n; i++) {
		int raw = labels[i];

		if (raw < 0)
			continue;
		for (size_t j = i; j < n; j++)
			if (labels[j] == raw)
				labels[j] = -(next + 2);
		next++;
	}
	for (size_t i = 0; i < n; i++)
		if (labels[i] <= -2)
			labels[i] = -labels[i] - 2;
}

enum link_level hostplan_auto_level(struct host_fn *const *gpus, size_t n, const char **why)
{
	unsigned vendors[64];
	const char *roots[64];
	size_t nv = 0;

	for (size_t i = 0; i < n && nv < ARRAY_SIZE(vendors); i++) {
		bool seen = false;

		if (!gpus[i]->placed)
			continue;
		for (size_t j = 0; j < nv && !seen; j++)
			seen = !strcmp(roots[j], gpus[i]->node.root);
		if (seen)
			continue;
		roots[nv] = gpus[i]->node.root;
		vendors[nv++] = gpus[i]->bridge_vendor;
	}
	return topo_auto_level(vendors, nv, why);
}

void hostplan_group_topology(struct host_fn *const *gpus, size_t n, enum link_level level, int *labels,
			     struct grouping *g)
{
	struct topo_node nodes[n + 1];
	size_t where[n + 1];
	int groups[n + 1];
	size_t m = 0;

	*g = (struct grouping){ .level = level, .why = "set by the operator" };
	if (level == LINK_AUTO)
		g->level = hostplan_auto_level(gpus, n, &g->why);
	for (size_t i = 0; i < n; i++) {
		labels[i] = -1;
		if (gpus[i]->placed) {
			nodes[m] = gpus[i]->node;
			where[m++] = i;
		}
	}
	topo_group(nodes, m, g->level, groups);
	for (size_t k = 0; k < m; k++)
		labels[where[k]] = groups[k];
	hostplan_dense(labels, n);
}

void hostplan_group_map(const struct map_entry *map, size_t n_map, struct host_fn *const *gpus, size_t n, int *labels,
			struct grouping *g)
{
	*g = (struct grouping){ .by_map = true, .level = LINK_PXB, .why = "[map]" };
	for (size_t i = 0; i < n; i++) {
		labels[i] = -1;
		for (size_t k = 0; k < n_map && labels[i] < 0; k++)
			if (pci_addr_equal(&map[k].addr, &gpus[i]->addr))
				labels[i] = map[k].label;
	}
	hostplan_dense(labels, n);
}

void hostplan_group(const struct config *cfg, struct host_fn *const *gpus, size_t n, int *labels, struct grouping *g)
{
	if (cfg->mode == MODE_MAP)
		hostplan_group_map(cfg->map, cfg->n_map, gpus, n, labels, g);
	else
		hostplan_group_topology(gpus, n, cfg->level, labels, g);
}

/* From vfio-pci's own list: reading the driver of each of 20,000 functions
 * would cost more than the rest of the scan. */
static void count_vfio_others(int sysfs, struct hostplan *p)
{
	_cleanup_free_ struct pci_addr *bound = NULL;
	size_t n = 0, k = 0;

	if (sysfs_list_bound(sysfs, "vfio-pci", &bound, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		while (k < p->n && pci_addr_cmp(&p->gpus[k]->addr, &bound[i]) < 0)
			k++;
		if ((k == p->n || !pci_addr_equal(&p->gpus[k]->addr, &bound[i])) &&
		    grow_array((void **)&p->vfio_others, &p->n_vfio_others, sizeof(bound[i]), &bound[i]) < 0)
			return;
	}
}

int hostplan_read(int sysfs, struct hostplan *p)
{
	int r;

	*p = (struct hostplan){ .grouping = { .level = LINK_PXB, .why = "" } };
	if ((r = hostscan_read(sysfs, hostscan_want_gpus, &p->h)) < 0)
		return r;
	p->gpus = calloc(p->h.n + 1, sizeof(*p->gpus));
	p->labels = calloc(p->h.n + 1, sizeof(*p->labels));
	if (!p->gpus || !p->labels) {
		hostplan_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->h.n; i++)
		if (host_fn_is_gpu(&p->h.fns[i]))
			p->gpus[p->n++] = &p->h.fns[i];
	for (size_t i = 0; i < p->n; i++)
		p->labels[i] = -1;
	count_vfio_others(sysfs, p);
	return 0;
}

void hostplan_effective(struct hostplan *p, const struct config *cfg)
{
	hostplan_group(cfg, p->gpus, p->n, p->labels, &p->grouping);
}

void hostplan_by_topology(struct hostplan *p, enum link_level level)
{
	hostplan_group_topology(p->gpus, p->n, level, p->labels, &p->grouping);
}

void hostplan_by_map(struct hostplan *p, const struct map_entry *map, size_t n_map)
{
	hostplan_group_map(map, n_map, p->gpus, p->n, p->labels, &p->grouping);
}

size_t hostplan_stale_map(const struct hostplan *p, const struct map_entry *map, size_t n_map, struct pci_addr *stale,
			  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_map; i++) {
		if (hostplan_find(p, &map[i].addr) >= 0)
			continue;
		if (n < max)
			stale[n] = map[i].addr;
		n++;
	}
	return n;
}

size_t hostplan_acs(const struct hostplan *p, int sysfs, const int *labels, struct acs_bridge *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct host_fn *g = p->gpus[i];
		bool shared = false;

		for (size_t k = 0; k < p->n; k++)
			shared |= k != i && labels[i] >= 0 && labels[k] == labels[i];
		for (int d = 0; shared && g->placed && d < g->node.depth - 1; d++) {
			uint8_t cfg[PCI_CONFIG_MAX];
			size_t len = 0, k = 0;
			int bits;

			/* Already reported above another GPU of the group: not read again. */
			while (k < n && !pci_addr_equal(&out[k].addr, &g->node.chain[d]))
				k++;
			if (k < n || sysfs_read_config(sysfs, &g->node.chain[d], cfg, &len) < 0 ||
			    (bits = caps_acs_p2p_bits(cfg, len)) <= 0)
				continue;
			if (n < max)
				out[n++] = (struct acs_bridge){ g->node.chain[d], bits };
		}
	}
	return n;
}

int hostplan_find(const struct hostplan *p, const struct pci_addr *a)
{
	for (size_t i = 0; i < p->n; i++)
		if (pci_addr_equal(&p->gpus[i]->addr, a))
			return (int)i;
	return -1;
}

bool hostplan_hotplug_global_ok(const struct hostplan *p)
{
	if (p->n == 0)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (p->labels[i] < 0 || p->labels[i] != p->labels[0])
			return false;
	return p->n_vfio_others == 0;
}

void hostplan_free(struct hostplan *p)
{
	host_free(&p->h);
	free(p->gpus);
	free(p->labels);
	free(p->vfio_others);
	*p = (struct hostplan){ 0 };
}

/* The host-wide plan (see hostplan.h). */
#include "hostplan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "sysfs.h"
#include "util.h"

int hostplan_read(int sysfs, struct hostplan *p)
{
	int r;

	*p = (struct hostplan){ .level = LINK_PXB, .why = "" };
	if ((r = hostscan_read(sysfs, &p->h)) < 0)
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
	return 0;
}

void hostplan_by_topology(struct hostplan *p, int sysfs, enum link_level level)
{
	p->level = hostscan_group(sysfs, p->gpus, p->n, level, p->labels, &p->why);
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

size_t hostplan_by_map(struct hostplan *p, const struct map_entry *map, size_t n_map, struct pci_addr *stale)
{
	size_t n_stale = 0;

	for (size_t i = 0; i < p->n; i++)
		p->labels[i] = -1;
	for (size_t i = 0; i < n_map; i++) {
		int g = hostplan_find(p, &map[i].addr);

		if (g >= 0)
			p->labels[g] = map[i].label;
		else if (stale)
			stale[n_stale++] = map[i].addr;
		else
			n_stale++;
	}
	return n_stale;
}

void hostplan_effective(struct hostplan *p, int sysfs, const struct config *cfg)
{
	if (cfg->mode == MODE_MAP)
		hostplan_by_map(p, cfg->map, cfg->n_map, NULL);
	else
		hostplan_by_topology(p, sysfs, cfg->level);
}

bool hostplan_hotplug_global_ok(const struct hostplan *p)
{
	if (p->n == 0)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (p->labels[i] < 0 || p->labels[i] != p->labels[0])
			return false;
	for (size_t i = 0; i < p->h.n; i++)
		if (!strcmp(p->h.fns[i].driver, "vfio-pci") && !host_fn_is_gpu(&p->h.fns[i]))
			return false;
	return true;
}

void hostplan_free(struct hostplan *p)
{
	host_free(&p->h);
	free(p->gpus);
	free(p->labels);
	*p = (struct hostplan){ 0 };
}

/* Automatic groups for the wrapper's `mode = auto`: only the VM's own GPUs
 * are read (unprivileged: links, numa_node, host bridge vendors). */
#include "groups.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hostscan.h"
#include "util.h"

int groups_auto(const struct config *cfg, int sysfs, const struct pci_addr *gpus, size_t n, int *labels,
		char *source, size_t source_size)
{
	_cleanup_free_ struct host_fn *fns = calloc(n + 1, sizeof(*fns));
	_cleanup_free_ struct topo_node *nodes = calloc(n + 1, sizeof(*nodes));
	_cleanup_free_ size_t *where = calloc(n + 1, sizeof(*where));
	_cleanup_free_ int *groups = calloc(n + 1, sizeof(*groups));
	enum link_level level = cfg->level;
	const char *why; /* plan and doctor print it; the log line names the level */
	size_t m = 0;

	if (!fns || !nodes || !where || !groups)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		labels[i] = -1;
		if (hostscan_fn(sysfs, &gpus[i], &fns[m]) == 0 && fns[m].placed) {
			nodes[m] = fns[m].node;
			where[m++] = i;
		}
	}
	if (level == LINK_AUTO)
		level = hostscan_auto_level(sysfs, fns, m, &why);
	topo_group(nodes, m, level, groups);
	for (size_t k = 0; k < m; k++)
		labels[where[k]] = groups[k];
	snprintf(source, source_size, "auto, %s", link_level_name(level));
	return 0;
}

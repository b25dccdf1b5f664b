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
	_cleanup_free_ struct host_fn **ptrs = calloc(n + 1, sizeof(*ptrs));
	const char *why; /* plan and doctor print it; the log line names the level */
	enum link_level level;

	if (!fns || !ptrs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		/* An unreadable function stays unplaced: no group. */
		if (hostscan_fn(sysfs, &gpus[i], &fns[i]) < 0)
			fns[i] = (struct host_fn){ .addr = gpus[i], .numa = -1, .iommu_group = -1 };
		ptrs[i] = &fns[i];
	}
	level = hostscan_group(sysfs, ptrs, n, cfg->level, labels, &why);
	snprintf(source, source_size, "auto, %s", link_level_name(level));
	return 0;
}

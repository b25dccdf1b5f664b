/* Automatic groups from the topology. Until the topology reader exists,
 * auto mode puts no GPU in a group and says so. */
#include "groups.h"

#include <stdio.h>

int groups_auto(const struct config *cfg, int sysfs, const struct pci_addr *gpus, size_t n, int *labels,
		char *source, size_t source_size)
{
	for (size_t i = 0; i < n; i++)
		labels[i] = -1;
	snprintf(source, source_size, "auto");
	return 0;
}

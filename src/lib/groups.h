/* Host groups for `[cliques] mode = auto`: GPUs whose PCIe link is at or
 * below the configured level share a group (FACTS §3, DESIGN "Cliques"). */
#ifndef QP2P_GROUPS_H
#define QP2P_GROUPS_H

#include <stddef.h>

#include "config.h"
#include "pci.h"

/* labels[i] for gpus[i] (-1: no group); source names the level and why,
 * e.g. "auto: PHB, Intel host bridges". Reads sysfs under root. */
int groups_auto(const struct config *cfg, int sysfs, const struct pci_addr *gpus, size_t n, int *labels,
		char *source, size_t source_size);

#endif

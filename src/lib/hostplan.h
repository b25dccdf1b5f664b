/* The host's plan as a whole: every NVIDIA GPU of the host and the group
 * each belongs to, from the topology at a level or from the [map]. Used by
 * topo, plan, refresh (hotplug_global_ok) and doctor; the wrapper reads only
 * its own VM's GPUs (groups.c). */
#ifndef QP2P_HOSTPLAN_H
#define QP2P_HOSTPLAN_H

#include <stdbool.h>

#include "config.h"
#include "hostscan.h"

struct hostplan {
	struct host h;
	struct host_fn **gpus; /* NVIDIA GPUs in address order, borrowed from h */
	size_t n;
	int *labels;           /* per GPU; -1: in no group */
	enum link_level level; /* topology level used (never LINK_AUTO) */
	const char *why;       /* why that level */
};

/* Scans the host under sysfs; labels start at -1. */
int hostplan_read(int sysfs, struct hostplan *p);

/* Groups by topology at level (LINK_AUTO: chosen from the host bridges
 * of the GPUs' roots). */
void hostplan_by_topology(struct hostplan *p, int sysfs, enum link_level level);

/* Groups as [map] says; returns how many map entries name no GPU of the
 * host (stale entries), listing them in stale[] when it is not NULL. */
size_t hostplan_by_map(struct hostplan *p, const struct map_entry *map, size_t n_map, struct pci_addr *stale);

/* Groups the way the wrapper would for this configuration. */
void hostplan_effective(struct hostplan *p, int sysfs, const struct config *cfg);

/* DESIGN "Files": every NVIDIA GPU in one group and no other function of
 * the host bound to vfio-pci (QEMU refuses a clique on those). */
bool hostplan_hotplug_global_ok(const struct hostplan *p);

/* A bridge on the path of a GPU that shares its group, with ACS P2P bits
 * (request/completion redirect, egress control) set in its control
 * register: P2P then goes up through the root complex. */
struct acs_bridge {
	struct pci_addr addr;
	int bits;
};

/* Such bridges, each once, for the groups in labels[] (per GPU, -1 none).
 * Reads extended config space: finds nothing unprivileged. */
size_t hostplan_acs(const struct hostplan *p, int sysfs, const int *labels, struct acs_bridge *out, size_t max);

/* Index of a GPU by address, or -1. */
int hostplan_find(const struct hostplan *p, const struct pci_addr *a);

void hostplan_free(struct hostplan *p);

#endif

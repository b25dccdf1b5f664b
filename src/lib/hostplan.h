/* Which group each GPU is in, and why: the one answer for the wrapper (the
 * GPUs of its VM), plan, doctor, status, vms and refresh (every GPU of the
 * host). Groups come from the operator's [map] or from the PCIe topology at
 * a level (LINK_AUTO: chosen from the CPU vendor, read off the host
 * bridges). Labels follow one convention everywhere: 0, 1, 2 ... in order
 * of first appearance among the GPUs given, -1 for a GPU in no group (not
 * in the map, or its place in the tree unknown). The grouping itself reads
 * nothing: the GPUs come with what hostscan read. */
#ifndef QP2P_HOSTPLAN_H
#define QP2P_HOSTPLAN_H

#include <stdbool.h>

#include "config.h"
#include "hostscan.h"

/* How the groups were made. */
struct grouping {
	bool by_map;           /* from [map]; else from the topology at level */
	enum link_level level; /* the level used (never LINK_AUTO); PXB for a map */
	const char *why;       /* why that level: "Intel host bridges (8086): ...",
				  "set by the operator", or "[map]" */
};

/* The level `auto` picks from the host bridges of the GPUs' roots: AMD
 * (1022) NODE, Intel (8086) PHB, anything else or a mix PXB. */
enum link_level hostplan_auto_level(struct host_fn *const *gpus, size_t n, const char **why);

/* GPUs whose links are at or below level share a group. */
void hostplan_group_topology(struct host_fn *const *gpus, size_t n, enum link_level level, int *labels,
			     struct grouping *g);

/* The groups [map] names; a GPU it does not name is in none. */
void hostplan_group_map(const struct map_entry *map, size_t n_map, struct host_fn *const *gpus, size_t n, int *labels,
			struct grouping *g);

/* As the wrapper groups for this configuration: [map] in map mode, else
 * the topology at [cliques] level. */
void hostplan_group(const struct config *cfg, struct host_fn *const *gpus, size_t n, int *labels, struct grouping *g);

/* Every NVIDIA GPU of the host and its group. */
struct hostplan {
	struct host h;
	struct host_fn **gpus; /* NVIDIA GPUs in address order, borrowed from h */
	size_t n;
	int *labels; /* per GPU */
	struct grouping grouping;
	struct pci_addr *vfio_others; /* functions bound to vfio-pci that are not GPUs */
	size_t n_vfio_others;
};

/* Rewrites labels (any ints >= 0, or -1 for none) as 0, 1, 2 ... by first
 * appearance: the convention above. */
void hostplan_dense(int *labels, size_t n);

/* Scans the host under sysfs; labels start at -1. */
int hostplan_read(int sysfs, struct hostplan *p);

/* Groups the host's GPUs with hostplan_group, _topology or _map. */
void hostplan_effective(struct hostplan *p, const struct config *cfg);
void hostplan_by_topology(struct hostplan *p, enum link_level level);
void hostplan_by_map(struct hostplan *p, const struct map_entry *map, size_t n_map);

/* Map entries that name no GPU of the host (stale), listed in stale[] (at
 * most max); returns how many there are. */
size_t hostplan_stale_map(const struct hostplan *p, const struct map_entry *map, size_t n_map, struct pci_addr *stale,
			  size_t max);

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

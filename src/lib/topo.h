/* PCIe topology between GPUs, from sysfs alone (FACTS §3): the link level
 * nvidia-smi's `topo -m` prints, and groups of GPUs whose links are at or
 * below a level. Pure logic over what hostscan read. */
#ifndef QP2P_TOPO_H
#define QP2P_TOPO_H

#include <stdbool.h>
#include <stddef.h>

#include "level.h"
#include "pci.h"

#define TOPO_MAX_DEPTH 16

/* Where a function sits: its root (pciDDDD:BB) and the chain of functions
 * from the root port down to itself (the last entry is the function). */
struct topo_node {
	struct pci_addr addr;
	char root[24]; /* "pci0000:00" */
	struct pci_addr chain[TOPO_MAX_DEPTH];
	int depth; /* entries in chain, >= 1 */
	long numa; /* -1 when unknown */
};

/* Fills a node from a path relative to the sysfs root, as
 * sysfs_device_path() returns it: "devices/pci0000:00/0000:00:01.0/...".
 * -EINVAL when the path has another shape. */
int topo_node_from_path(const char *path, long numa, struct topo_node *out);

/* The link between two functions, symmetric. */
enum link_level topo_link(const struct topo_node *a, const struct topo_node *b);

/* Connected groups of nodes whose pairwise links are <= level: labels[i]
 * gets the index of the group's first member (so labels are stable and
 * ordered by first appearance). */
void topo_group(const struct topo_node *nodes, size_t n, enum link_level level, int *labels);

/* The level `auto` chooses from the host bridges' PCI vendors (AMD 0x1022:
 * NODE, Intel 0x8086: PHB, anything else or a mix: PXB), and why. */
enum link_level topo_auto_level(const unsigned *bridge_vendors, size_t n, const char **why);

#endif

/* Reading a host's PCI functions from sysfs for topo, plan, doctor and the
 * wrapper's auto mode: identity, class, NUMA node, driver, IOMMU group and
 * place in the tree. */
#ifndef QP2P_HOSTSCAN_H
#define QP2P_HOSTSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "topo.h"

#define PCI_VENDOR_NVIDIA 0x10de

struct host_fn {
	struct pci_addr addr;
	unsigned vendor, device;
	unsigned long cls;     /* 24-bit class code */
	long numa;             /* -1 unknown */
	char driver[32];       /* "" when none */
	long iommu_group;      /* -1 when none */
	struct topo_node node;
	bool placed;           /* node is valid */
};

struct host {
	struct host_fn *fns;   /* every function, sorted by address */
	size_t n;
};

/* A GPU for this project: an NVIDIA function of base class 0x03. */
bool host_fn_is_gpu(const struct host_fn *f);

/* An NVSwitch (NVIDIA, class 0x0680): a hint of NVLink, invisible here. */
bool host_fn_is_nvswitch(const struct host_fn *f);

/* Reads every function under root (owned result, free with host_free). */
int hostscan_read(int sysfs, struct host *out);

/* Reads one function (identity, numa, place in the tree). */
int hostscan_fn(int sysfs, const struct pci_addr *a, struct host_fn *out);

/* PCI vendor of the host bridge of a root ("pci0000:00" -> 0000:00:00.0),
 * 0 when unreadable. */
unsigned hostscan_bridge_vendor(int sysfs, const char *root);

/* The level `auto` picks on this host, from the host bridges of the given
 * functions' roots (every root when fns is the whole host). */
enum link_level hostscan_auto_level(int sysfs, struct host_fn *const *fns, size_t n, const char **why);

/* Groups functions whose links are at or below level (LINK_AUTO: chosen
 * from their host bridges, why says how): labels[i] is the index of the
 * first function of i's group, -1 for one whose place is unknown. Returns
 * the level used. */
enum link_level hostscan_group(int sysfs, struct host_fn *const *fns, size_t n, enum link_level level, int *labels,
			       const char **why);

void host_free(struct host *h);

#endif

/* Reading a host's PCI functions from sysfs for topo, plan, doctor and the
 * wrapper's auto mode: identity, class, NUMA node, driver, IOMMU group,
 * place in the tree and the vendor of its root's host bridge. Reading only:
 * which group each GPU is in is hostplan's answer. */
#ifndef QP2P_HOSTSCAN_H
#define QP2P_HOSTSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "topo.h"

#define PCI_VENDOR_NVIDIA 0x10de

struct host_fn {
	struct pci_addr addr;
	unsigned vendor, device;
	unsigned long cls; /* 24-bit class code */
	long numa;         /* -1 unknown */
	char driver[32];   /* "" when none */
	long iommu_group;  /* -1 when none */
	struct topo_node node;
	bool placed;            /* node is valid */
	unsigned bridge_vendor; /* PCI vendor of node.root's host bridge, 0 unknown */
};

struct host {
	struct host_fn *fns; /* every function, sorted by address */
	size_t n;
};

/* A GPU for this project: an NVIDIA function of base class 0x03. */
bool host_fn_is_gpu(const struct host_fn *f);

/* An NVSwitch (NVIDIA, class 0x0680): a hint of NVLink, invisible here. */
bool host_fn_is_nvswitch(const struct host_fn *f);

/* Which functions a scan reads in full (driver, IOMMU group, place in the
 * tree, bridge vendor of their root); the others get their identity only,
 * which keeps a host of 20,000 functions at one read each. */
typedef bool hostscan_want(const struct host_fn *f);

/* Display functions of any vendor (x-pci-vendor-id may make one NVIDIA)
 * and NVSwitches. */
bool hostscan_want_gpus(const struct host_fn *f);

/* Reads every function under root (owned result, free with host_free). */
int hostscan_read(int sysfs, hostscan_want *full, struct host *out);

/* Only what grouping needs of a function whose identity is known: its NUMA
 * node and its place in the tree (f->addr set; fills numa, node, placed). */
void hostscan_place(int sysfs, struct host_fn *f);

/* Fills bridge_vendor of each placed function, reading each distinct root's
 * host bridge (pciDDDD:BB -> DDDD:BB:00.0) once. */
void hostscan_bridges(int sysfs, struct host_fn *const *fns, size_t n);

void host_free(struct host *h);

#endif

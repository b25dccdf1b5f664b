/* What the guest sees: its NVIDIA GPUs, each with the clique id QEMU gave
 * it (the capability x-nv-gpudirect-clique adds to config space), its NUMA
 * node, its place in the guest's PCI tree and link; its network functions;
 * its NUMA nodes' CPU maps. Read under a sysfs root, as on the host. */
#ifndef QP2P_GUESTSCAN_H
#define QP2P_GUESTSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "hostscan.h"

#define GUEST_NO_CLIQUE (-1)  /* no capability: QEMU gave it none */
#define GUEST_UNREADABLE (-2) /* config beyond 64 bytes needs root */

struct guest_fn {
	const struct host_fn *fn; /* borrowed from guest.h */
	int clique;               /* 0..15, GUEST_NO_CLIQUE or GUEST_UNREADABLE */
	char speed[32];           /* max_link_speed, "" when unknown */
	int width;                /* max_link_width, 0 when unknown */
};

struct guest {
	struct host h;         /* every function */
	struct guest_fn *gpus; /* NVIDIA display functions, address order */
	size_t n_gpus;
	struct guest_fn *nics; /* network functions (class 0x02) */
	size_t n_nics;
};

int guestscan_read(int sysfs, struct guest *out);
void guest_free(struct guest *g);

/* For the commands that act on the cliques: reads the guest; 0 when every
 * GPU's clique id could be read. Otherwise says why (cli_error) and
 * returns 1 (an id this user cannot read) or 2 (no GPU, or no PCI
 * listing); nothing is left to free then. */
int guestscan_usable(int sysfs, struct guest *g);

/* Index of the GPU or NIC at addr, or -1. */
int guest_find(const struct guest_fn *fns, size_t n, const struct pci_addr *addr);

/* devices/system/node/nodeN/cpumap without its newline, "" when none. */
void guestscan_cpumap(int sysfs, long node, char *buf, size_t size);

#endif

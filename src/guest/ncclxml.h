/* The NCCL topology file for a VM: the GPUs of one clique under one
 * synthetic PCIe switch, so NCCL's default P2P level (PXB: GPUs under one
 * switch) takes the path the clique opens. Format: NCCL's XML topology
 * (NCCL_TOPO_FILE, or /var/run/nvidia-topologyd/virtualTopology.xml read
 * since NCCL 2.10.3), version 1, written within its reader's rules (single
 * spaces between attributes, indentation by spaces, no XML declaration).
 * Pure logic: the caller reads the guest and writes the file. */
#ifndef QP2P_NCCLXML_H
#define QP2P_NCCLXML_H

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"
#include "strbuf.h"

#define NCCL_TOPO_DEFAULT_PATH "/var/run/nvidia-topologyd/virtualTopology.xml"
/* Synthetic switches take bus ids ffff:ff:00.0, ffff:fe:00.0, ...: a PCI
 * domain no VM uses, so NCCL never finds them in sysfs. */
#define NCCL_SWITCH_DOMAIN 0xffff
#define NCCL_MAX_SWITCHES 64

struct nccl_dev {
	struct pci_addr addr;
	unsigned long cls; /* 24-bit class code */
	long numa;         /* -1 unknown */
	char speed[32];    /* max_link_speed, "" unknown (NCCL reads sysfs) */
	int width;         /* max_link_width, 0 unknown */
	int clique;        /* GPUs: 0..15 or -1; NICs: -1 */
	int beside;        /* NICs: index of the GPU it sits beside, else -1 */
	int sw;            /* out: its synthetic switch, -1: left where it is */
};

struct nccl_switch {
	struct pci_addr busid;
	long numa;       /* the node of its first GPU */
	bool mixed_numa; /* its GPUs sit on several nodes */
	int clique;      /* -1: a GPU without a clique and its NIC */
	char speed[32];  /* the fastest member's link */
	int width;
};

/* Puts the GPUs of each clique with two or more GPUs, and each GPU a NIC
 * is placed beside, under one switch; each such NIC beside its GPU. Sets
 * sw of every GPU and NIC; returns how many switches (at most max). */
size_t nccl_group(struct nccl_dev *gpus, size_t n_gpus, struct nccl_dev *nics, size_t n_nics, struct nccl_switch *sw,
		  size_t max);

/* The XML. cpumaps[node] is the affinity of a node (NULL or "": left for
 * NCCL to read); nodes at or above n_nodes have none. */
void nccl_xml(const struct nccl_switch *sw, size_t n_sw, const struct nccl_dev *gpus, size_t n_gpus,
	      const struct nccl_dev *nics, size_t n_nics, const char *const *cpumaps, size_t n_nodes,
	      struct strbuf *out);

#endif

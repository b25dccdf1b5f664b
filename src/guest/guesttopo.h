/* The NCCL topology file of this VM (ncclxml.h) built from what the guest
 * reads (guestscan.h), and put where NCCL looks for it: shared by
 * nccl-topo and boot. */
#ifndef QP2P_GUESTTOPO_H
#define QP2P_GUESTTOPO_H

#include "guestscan.h"
#include "ncclxml.h"
#include "strbuf.h"

/* NCCL_TOPO_DEFAULT_PATH below a root, as a directory and a name. */
#define NCCL_TOPO_DIR "var/run/nvidia-topologyd"
#define NCCL_TOPO_NAME "virtualTopology.xml"

struct guest_topo {
	struct nccl_dev *gpus, *nics; /* owned: one per guest GPU and NIC */
	struct nccl_switch sw[NCCL_MAX_SWITCHES];
	size_t n_sw;
	struct strbuf xml;
};

/* nic_with: n pairs of addresses, GPU then NIC (--nic-with). 1 when one
 * is not in this VM (said), -ENOMEM; 0 with t filled (free it). */
int guest_topo_build(int sysfs, const struct guest *g, const struct pci_addr *nic_with, size_t n, struct guest_topo *t);
void guest_topo_free(struct guest_topo *t);

/* Writes the file at NCCL's default path below root (rootfs.h: links an
 * unprivileged user could plant are not followed); e says why not. */
int guest_topo_install(int root, const struct guest_topo *t, struct err *e);

/* Removes that file: 1 removed, 0 there was none, -errno (e says why). */
int guest_topo_uninstall(int root, struct err *e);

#endif

/* What `nvidia-smi topo -p2p r` and `nvidia-smi --query-gpu=index,pci.bus_id
 * --format=csv` print on bare metal, read from one file, for `plan
 * --from-nvidia-smi`. */
#ifndef QP2P_NVSMI_H
#define QP2P_NVSMI_H

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"
#include "util.h"

#define NVSMI_MAX_GPUS 16

struct nvsmi {
	size_t n;                                /* GPUs */
	struct pci_addr addr[NVSMI_MAX_GPUS];    /* by nvidia-smi index */
	bool ok[NVSMI_MAX_GPUS][NVSMI_MAX_GPUS]; /* "OK" in the -p2p r matrix */
};

/* Parses text (path names it in errors). Errors say file:line and what to
 * do; -EINVAL then. */
int nvsmi_parse(const char *path, const char *text, struct nvsmi *out, struct err *e);

#endif

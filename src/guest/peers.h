/* The NVIDIA driver's view of the guest's GPU pairs, against the cliques:
 * which CUDA device each GPU is, whether the driver grants P2P both ways,
 * and the verdict on a pair. Shared by check and boot. */
#ifndef QP2P_PEERS_H
#define QP2P_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "cudaload.h"
#include "guestscan.h"

/* cuInit, then the CUDA device of each guest GPU in dev[] (-1: the driver
 * does not list it). -1 with why in msg when the driver is unusable or
 * sees no GPU. */
int peers_map(struct cuda *cu, const struct guest *g, int *dev, char *msg, size_t size);

/* The driver allows access both ways between CUDA devices a and b (false
 * when either is -1). */
bool peers_granted(struct cuda *cu, int a, int b);

/* cpuinfo (under the proc root) has the hypervisor flag: the NVIDIA driver
 * ignores cliques without it. */
bool peers_sees_hypervisor(int proc);

struct peer_verdict {
	bool expected;             /* one clique */
	const char *verdict, *why; /* "granted", "LOST", "none expected" */
};

/* GPUs i and k of g, given whether the driver lists both (dev[] of
 * peers_map is not -1) and grants P2P between them. */
struct peer_verdict peers_judge(const struct guest *g, size_t i, size_t k, bool listed, bool granted, bool hypervisor);

/* "0/1", "0/-": the two clique ids, '-' for none. */
const char *peers_cliques_text(const struct guest *g, size_t i, size_t k, char *buf, size_t size);

#endif

/* The best grouping of GPUs when "may talk P2P" is not transitive: groups
 * in which every pair may, keeping as many such pairs as possible. */
#ifndef QP2P_PARTITION_H
#define QP2P_PARTITION_H

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"

#define PARTITION_MAX 16

/* ok[i][j]: GPUs i and j may talk (symmetric). labels[i] gets the index of
 * the first GPU (lowest address) of i's group. Exact search; on a tie the
 * lowest addresses are grouped together. Returns the pairs kept, or
 * -EINVAL when n > PARTITION_MAX. */
int partition_best(size_t n, const bool ok[][PARTITION_MAX], const struct pci_addr *addr, int *labels);

#endif

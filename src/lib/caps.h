/* The standard capability list of a PCI function's config space, and
 * whether QEMU < 8.1 could put the clique capability at 0xC8..0xCF. */
#ifndef QP2P_CAPS_H
#define QP2P_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIQUE_CAP_OFFSET 0xC8
#define CLIQUE_CAP_SIZE 8

/* Returns 1 when free, 0 when a capability covers part of 0xC8..0xCF,
 * -ENODATA when config holds fewer than 256 bytes (unprivileged read),
 * -EINVAL when the list is malformed (loop, pointer out of range). */
int caps_c8_free(const uint8_t *config, size_t len);

/* Offset of the capability with this ID, 0 if none, -ENODATA if short. */
int caps_find(const uint8_t *config, size_t len, uint8_t id);

#endif

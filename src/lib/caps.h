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

/* Offset of the extended capability with this ID (config space beyond 256
 * bytes, root only), 0 if none or unreadable. */
int caps_find_ext(const uint8_t *config, size_t len, uint16_t id);

/* The clique capability QEMU adds (x-nv-gpudirect-clique), as the guest
 * sees it: vendor-specific (ID 0x09), length 8, signature "P2P", the id in
 * bits 3..6 of byte 6. Matched by signature: virtio devices carry other
 * 0x09 capabilities. Returns 1 with *id set, 0 when there is none,
 * -ENODATA when config holds fewer than 256 bytes (unprivileged read),
 * -EINVAL when the list is malformed. */
int caps_p2p_clique(const uint8_t *config, size_t len, int *id);

/* ACS (extended capability 0x000D) control bits that send peer-to-peer
 * traffic up through the root complex: P2P Request Redirect, Completion
 * Redirect, Egress Control. */
#define ACS_EXT_ID 0x000d
#define ACS_CTRL_OFFSET 6
#define ACS_P2P_BITS 0x002c

/* The control register's P2P bits (ACS_P2P_BITS mask), 0 when clear or no
 * ACS, -ENODATA when the extended space is unreadable. */
int caps_acs_p2p_bits(const uint8_t *config, size_t len);

#endif

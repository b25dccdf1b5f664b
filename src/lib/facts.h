/* Host facts: what `qemu-p2p refresh` recorded about the real QEMU binary
 * and the GPUs' capability layout, and whether those facts still hold. */
#ifndef QP2P_FACTS_H
#define QP2P_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* "device:inode:size:mtime" of path; owned result. -errno from stat. */
int facts_identity(const char *path, char **out);

/* Parses "QEMU emulator version 7.2.22 (...)" (or a bare "7.2.22") into
 * major/minor; -EINVAL when no version is found. */
int facts_parse_version(const char *text, int *major, int *minor);

/* True when the host file's identity is that of `real_binary`. */
bool facts_current(const struct config *cfg, const char *real_binary);

/* QEMU >= 8.1 places the capability at 0xC8 or 0xD4 itself. */
bool facts_qemu_places_cap(const struct config *cfg);

bool facts_c8_free(const struct config *cfg, const struct pci_addr *addr);

#endif

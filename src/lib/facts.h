/* Host facts: what `qemu-p2p refresh` recorded about the real QEMU binary
 * and the GPUs' capability layout, and whether those facts still hold. */
#ifndef QP2P_FACTS_H
#define QP2P_FACTS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "sysfs.h"

/* "device:inode:size:mtime" of path; owned result. -errno from stat. */
int facts_identity(const char *path, char **out);

/* Parses "QEMU emulator version 7.2.22 (...)" (or a bare "7.2.22") into
 * major/minor; -EINVAL when no version is found. */
int facts_parse_version(const char *text, int *major, int *minor);

/* True when the host file's identity is that of `real_binary`. */
bool facts_current(const struct config *cfg, const char *real_binary);

/* QEMU >= 8.1 places the capability at 0xC8 or 0xD4 itself. */
bool facts_qemu_places_cap(const struct config *cfg);

/* The card at addr as c8_free records it: the ids the kernel holds and
 * where the function sits in the tree (its device link, hashed), e.g.
 * "10de:2bb1:10de:204b:5f3a9c21". ident: already read, or NULL to read it. */
int facts_gpu_id(int sysfs, const struct pci_addr *addr, const struct pci_ident *ident, char *out, size_t size);

enum c8_state {
	C8_FREE,       /* listed, for this very card */
	C8_NOT_LISTED, /* refresh found a capability at 0xC8 (or no GPU) */
	C8_OTHER_CARD, /* listed for another card, or this card unreadable */
	C8_NO_ID,      /* listed by a qemu-p2p that wrote no ids */
};

/* What the host facts say of 0xC8 on the GPU at addr, whose live id
 * (facts_gpu_id, "" when unreadable) is live_id. */
enum c8_state facts_c8_state(const struct config *cfg, const struct pci_addr *addr, const char *live_id);

/* Why a state other than C8_FREE keeps a clique off, for the log after
 * "QEMU 7.2.22 ". */
const char *facts_c8_why(enum c8_state s);

#endif

/* What NCCL makes of the guest's own PCI tree, without our topology file
 * (shared FACTS.md §8; NCCL's src/graph/paths.cc, ncclTopoCheckP2p): the
 * path between two GPUs (PHB between root ports of one guest, SYS across
 * guest NUMA nodes) against NCCL's default P2P level, which depends on the
 * release and the CPU:
 *   2.23.4 and later:   PXB; AMD x86 with at most 2 GPUs: SYS (any distance)
 *   2.10.3 to 2.23.3:   SYS; Intel x86, ARM and Zhaoxin: PXB
 * Older releases never read the default topology file and are left out.
 * The release is read from libnccl's file name or nccl.h where the guest
 * has them; the CPU from /proc/cpuinfo. */
#ifndef QP2P_NCCLTODAY_H
#define QP2P_NCCLTODAY_H

#include <stdbool.h>
#include <stddef.h>

#include "guestscan.h"
#include "level.h"

#define NCCL_CODE(major, minor, patch) ((major)*10000 + (minor)*100 + (patch))
#define NCCL_NEW_FROM NCCL_CODE(2, 23, 4)
#define NCCL_FILE_FROM NCCL_CODE(2, 10, 3) /* reads the default topology file */

enum nccl_range { NCCL_OLD, NCCL_NEW }; /* 2.10.3 to 2.23.3; 2.23.4 and later */

enum nccl_cpu { NCCL_CPU_UNKNOWN, NCCL_CPU_INTEL, NCCL_CPU_AMD, NCCL_CPU_ZHAOXIN, NCCL_CPU_ARM, NCCL_CPU_OTHER };

/* The CPU as NCCL tells them apart, from cpuinfo's text (vendor_id on x86,
 * "CPU implementer" on ARM); name gets what was read ("AuthenticAMD"). */
enum nccl_cpu nccl_cpu_of(const char *cpuinfo, char *name, size_t size);
const char *nccl_cpu_name(enum nccl_cpu c);

/* NCCL's default P2P level; LINK_AUTO when the CPU is unknown. */
enum link_level nccl_p2p_level(enum nccl_range r, enum nccl_cpu c, size_t n_gpus);

/* The path NCCL computes between two guest GPUs; LINK_AUTO when a GPU's
 * place is unknown. */
enum link_level nccl_guest_path(const struct guest_fn *a, const struct guest_fn *b);

struct nccl_release {
	int code;       /* NCCL_CODE */
	char from[160]; /* the file it was read from */
};

/* The NCCL releases installed below root (libnccl.so.2.X.Y in the usual
 * library directories, nccl.h's NCCL_MAJOR/MINOR/PATCH), one per distinct
 * release, at most max; how many. */
size_t nccl_find_releases(int root, struct nccl_release *out, size_t max);

/* "2.23.4" */
const char *nccl_code_text(int code, char *buf, size_t size);

#endif

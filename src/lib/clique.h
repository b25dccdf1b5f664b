/* Per-VM clique ids from host groups (DESIGN "Cliques"). Pure logic.
 *
 * Groups with at least two of this VM's GPUs get ids 0, 1, 2 ... in order of
 * first appearance on the command line; an id the operator already set on a
 * GPU is kept, its group's other GPUs join it, and new ids skip it. QEMU
 * accepts ids 0..15, so a VM gets at most 16 cliques. */
#ifndef QP2P_CLIQUE_H
#define QP2P_CLIQUE_H

#include <stddef.h>

enum clique_outcome {
	CLIQUE_NONE = 0, /* not considered (ineligible) */
	CLIQUE_ADDED,    /* `assigned` is the id to add */
	CLIQUE_EXPLICIT, /* the operator's id stays */
	CLIQUE_NO_GROUP, /* in no group of the host plan */
	CLIQUE_ALONE,    /* the only GPU of its group in this VM */
	CLIQUE_FULL,     /* all 16 ids are taken */
};

struct clique_gpu {
	int group;                   /* in: group label, -1 for none */
	int explicit_id;             /* in: operator's id, -1 for none */
	int assigned;                /* out: the id (added or explicit), -1 for none */
	enum clique_outcome outcome; /* out */
};

/* Decides every gpu's outcome; gpus are in command-line order. */
void clique_assign(struct clique_gpu *gpus, size_t n);

#endif

/* qemu-p2p-guest boot's test of the GPU pairs: the driver's grants
 * (peers.h) and, for every pair it grants, p2pbench's proof (proof.h) both
 * ways. CUDA runs in a child process only, so a data path that hangs (a
 * broken peer mapping can) is cut off at the time limit and the caller
 * still acts: the child is killed and the pair in progress is known. */
#ifndef QP2P_DATATEST_H
#define QP2P_DATATEST_H

#include <stdbool.h>
#include <stddef.h>

#include "guestscan.h"
#include "proof.h"

/* One pair i < k of the guest's GPUs, in that order (a and b are set for
 * every pair; the rest as it came back). */
struct dt_pair {
	int a, b;                   /* guest GPU indexes */
	bool listed;                /* the driver lists both GPUs */
	bool granted;               /* the driver allows access both ways */
	bool tested;                /* granted, so the proof ran */
	struct proof_result ab, ba; /* a writes to b, b writes to a */
	double ms;                  /* the proof, both ways */
	double open_ms;             /* making the GPUs' contexts and buffers, first use */
	char error[200];            /* a CUDA call that failed during the proof */
};

enum dt_status {
	DT_DONE,      /* every pair came back */
	DT_NO_DRIVER, /* no libcuda.so.1, or cuInit failed, or it sees no GPU */
	DT_TIMEOUT,   /* the time limit passed: pairs[n_done] was in progress */
	DT_DIED,      /* the child ended early (a crash in the driver) */
};

struct datatest {
	enum dt_status status;
	bool started;  /* the driver loaded and answered (the header came) */
	char msg[256]; /* why, for DT_NO_DRIVER and DT_DIED */
	int driver_version;
	char lookup[24];
	struct dt_pair *pairs; /* owned; n_pairs of them, n_done filled */
	size_t n_pairs, n_done;
	double init_ms, elapsed_ms; /* loading and cuInit; all of it */
};

/* Tests every pair of g's GPUs with bytes each way, within timeout_s. 0,
 * or -errno when the child cannot be started; free t either way. */
int datatest_run(const struct guest *g, size_t bytes, int timeout_s, struct datatest *t);
void datatest_free(struct datatest *t);

#endif

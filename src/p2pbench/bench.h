/* p2pbench's state and steps: GPUs with their contexts, streams and
 * buffers; the measured matrices; the correctness verdicts. */
#ifndef P2PBENCH_BENCH_H
#define P2PBENCH_BENCH_H

#include <stdbool.h>

#include "proof.h"

#define MAX_GPUS 16
#define OFF 0
#define ON 1

struct gpu {
	struct proof_gpu p; /* context, stream, buffers a and b of `size` bytes, kernel */
	CUevent start, stop;
	char name[128], bus[32];
};

struct bench {
	struct cuda cu; /* cu.error: the first CUDA error, if any */
	int n;
	struct gpu g[MAX_GPUS];
	size_t size;
	int iters, reps;
	bool json;                                  /* --json */
	int can[MAX_GPUS][MAX_GPUS];                /* cuDeviceCanAccessPeer */
	int attr[MAX_GPUS][MAX_GPUS][4];            /* P2P attributes 1..4 */
	double uni[2][MAX_GPUS][MAX_GPUS];          /* GB/s, [OFF|ON][from][to] */
	double bi[2][MAX_GPUS][MAX_GPUS];           /* GB/s, both ways at once */
	double lat[2][MAX_GPUS][MAX_GPUS];          /* us per small copy */
	struct proof_result ok[MAX_GPUS][MAX_GPUS]; /* [writer][owner] */
};

/* measure.c */
int bench_measure(struct bench *b);
/* The median of v[0..n) (sorts v; 0 when n is 0). */
double bench_median(double *v, int n);
/* verify.c */
int bench_verify(struct bench *b);
/* Peer access from `from`'s context to `to`'s, on or off (nothing to do
 * where the driver grants none: it stages copies either way). */
int bench_peer(struct bench *b, int from, int to, bool on);

#endif

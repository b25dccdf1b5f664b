/* Bandwidth and latency between GPUs, with peer access off (the driver
 * stages copies through host memory) and on, timed with events on the
 * streams, after a warm-up, the median of several repetitions. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define LATENCY_BYTES 4
#define LATENCY_COPIES 100

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return a < c ? -1 : a > c;
}

double bench_median(double *v, int n)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* `copies` copies of `bytes` from i to j on i's stream (j to i as well on
 * j's stream when both), timed from i's start event to i's stop event,
 * which waits for j's. Returns ms, or -1 on error. */
static double timed(struct bench *b, int i, int j, size_t bytes, int copies, bool both)
{
	struct cuda *cu = &b->cu;
	struct gpu *x = &b->g[i], *y = &b->g[j];
	float ms = -1;

	if (cuda_failed(cu, cu->CtxSetCurrent(x->p.ctx), "cuCtxSetCurrent") ||
	    cuda_failed(cu, cu->EventRecord(x->start, x->p.stream), "cuEventRecord"))
		return -1;
	if (both && cuda_failed(cu, cu->StreamWaitEvent(y->p.stream, x->start, 0), "cuStreamWaitEvent"))
		return -1;
	for (int k = 0; k < copies; k++) {
		CUresult r = i == j ? cu->MemcpyDtoDAsync(y->p.b, x->p.a, bytes, x->p.stream)
				    : cu->MemcpyPeerAsync(y->p.b, y->p.ctx, x->p.a, x->p.ctx, bytes, x->p.stream);

		if (cuda_failed(cu, r, "cuMemcpyPeerAsync"))
			return -1;
		if (both && cuda_failed(cu, cu->MemcpyPeerAsync(x->p.b, x->p.ctx, y->p.a, y->p.ctx, bytes, y->p.stream),
					"cuMemcpyPeerAsync"))
			return -1;
	}
	if (both && (cuda_failed(cu, cu->EventRecord(y->stop, y->p.stream), "cuEventRecord") ||
		     cuda_failed(cu, cu->StreamWaitEvent(x->p.stream, y->stop, 0), "cuStreamWaitEvent")))
		return -1;
	if (cuda_failed(cu, cu->EventRecord(x->stop, x->p.stream), "cuEventRecord") ||
	    cuda_failed(cu, cu->EventSynchronize(x->stop), "cuEventSynchronize") ||
	    cuda_failed(cu, cu->EventElapsedTime(&ms, x->start, x->stop), "cuEventElapsedTime"))
		return -1;
	return ms;
}

/* Median over reps after one warm-up run; -1 on error. */
static double repeat(struct bench *b, int i, int j, size_t bytes, int copies, bool both)
{
	double v[64];
	int reps = b->reps < 64 ? b->reps : 64;

	if (timed(b, i, j, bytes, copies, both) < 0)
		return -1;
	for (int r = 0; r < reps; r++)
		if ((v[r] = timed(b, i, j, bytes, copies, both)) < 0)
			return -1;
	return bench_median(v, reps);
}

static int pair(struct bench *b, int i, int j, int mode)
{
	double ms;

	if (i != j && (bench_peer(b, i, j, mode == ON) < 0 || bench_peer(b, j, i, mode == ON) < 0))
		return -1;
	if ((ms = repeat(b, i, j, b->size, b->iters, false)) < 0)
		return -1;
	b->uni[mode][i][j] = ms > 0 ? (double)b->size * b->iters / (ms / 1e3) / 1e9 : 0;
	if (i != j) {
		if ((ms = repeat(b, i, j, b->size, b->iters, true)) < 0)
			return -1;
		b->bi[mode][i][j] = ms > 0 ? 2.0 * (double)b->size * b->iters / (ms / 1e3) / 1e9 : 0;
	} else {
		b->bi[mode][i][j] = b->uni[mode][i][j];
	}
	if ((ms = repeat(b, i, j, LATENCY_BYTES, LATENCY_COPIES, false)) < 0)
		return -1;
	b->lat[mode][i][j] = ms * 1e3 / LATENCY_COPIES;
	return 0;
}

int bench_measure(struct bench *b)
{
	for (int mode = OFF; mode <= ON; mode++)
		for (int i = 0; i < b->n; i++)
			for (int j = 0; j < b->n; j++)
				if (pair(b, i, j, mode) < 0)
					return -1;
	/* Leave peer access off, as we found it. */
	for (int i = 0; i < b->n; i++)
		for (int j = 0; j < b->n; j++)
			if (i != j)
				bench_peer(b, i, j, false);
	return 0;
}

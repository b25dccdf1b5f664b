/* Does data written over P2P really land in the peer's memory? One report
 * shows GeForce cards "approving" P2P while writes go to a private mirror,
 * so timing is no proof. For each ordered pair with peer access: the
 * writer copies a known pattern into the owner's buffer, and a kernel on
 * the writer stores a pattern through the peer mapping; each time the
 * owner reads its own buffer back and compares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define CHECK_BYTES ((size_t)4 << 20)

/* write_pattern(u32 *dst, u32 n, u32 seed): dst[k] = k ^ seed. PTX 6.0 for
 * sm_50: the driver JIT-compiles it for any newer GPU. */
const char write_pattern_ptx[] = ".version 6.0\n"
				 ".target sm_50\n"
				 ".address_size 64\n"
				 ".visible .entry write_pattern(.param .u64 dst, .param .u32 n, .param .u32 seed)\n"
				 "{\n"
				 "  .reg .pred p;\n"
				 "  .reg .b32 r<8>;\n"
				 "  .reg .b64 rd<5>;\n"
				 "  ld.param.u64 rd1, [dst];\n"
				 "  ld.param.u32 r1, [n];\n"
				 "  ld.param.u32 r2, [seed];\n"
				 "  mov.u32 r3, %ctaid.x;\n"
				 "  mov.u32 r4, %ntid.x;\n"
				 "  mov.u32 r5, %tid.x;\n"
				 "  mad.lo.s32 r6, r3, r4, r5;\n"
				 "  setp.ge.u32 p, r6, r1;\n"
				 "  @p bra DONE;\n"
				 "  cvta.to.global.u64 rd2, rd1;\n"
				 "  mul.wide.u32 rd3, r6, 4;\n"
				 "  add.s64 rd4, rd2, rd3;\n"
				 "  xor.b32 r7, r6, r2;\n"
				 "  st.global.u32 [rd4], r7;\n"
				 "DONE:\n"
				 "  ret;\n"
				 "}\n";

bool bench_failed(struct bench *b, CUresult r, const char *what)
{
	if (r == CUDA_SUCCESS)
		return false;
	if (!b->error[0])
		snprintf(b->error, sizeof(b->error), "%s: %s (%d)", what, cuda_error(&b->cu, r), r);
	return true;
}

int bench_peer(struct bench *b, int from, int to, bool on)
{
	CUresult r;

	if (!b->can[from][to])
		return 0; /* copies are staged by the driver either way */
	if (bench_failed(b, b->cu.CtxSetCurrent(b->g[from].ctx), "cuCtxSetCurrent"))
		return -1;
	r = on ? b->cu.CtxEnablePeerAccess(b->g[to].ctx, 0) : b->cu.CtxDisablePeerAccess(b->g[to].ctx);
	if (r == CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED || r == CUDA_ERROR_PEER_ACCESS_NOT_ENABLED)
		return 0;
	return bench_failed(b, r, on ? "cuCtxEnablePeerAccess" : "cuCtxDisablePeerAccess") ? -1 : 0;
}

/* The owner reads its own buffer back; every word must be k ^ seed. */
static enum verdict owner_sees(struct bench *b, int owner, uint32_t seed, uint32_t *host, size_t words)
{
	if (bench_failed(b, b->cu.CtxSetCurrent(b->g[owner].ctx), "cuCtxSetCurrent") ||
	    bench_failed(b, b->cu.MemcpyDtoH(host, b->g[owner].a, words * 4), "cuMemcpyDtoH"))
		return V_FAIL;
	for (size_t k = 0; k < words; k++)
		if (host[k] != ((uint32_t)k ^ seed))
			return V_FAIL;
	return V_PASS;
}

static int clear(struct bench *b, int owner, size_t words)
{
	return bench_failed(b, b->cu.CtxSetCurrent(b->g[owner].ctx), "cuCtxSetCurrent") ||
			       bench_failed(b, b->cu.MemsetD32(b->g[owner].a, 0, words), "cuMemsetD32")
		       ? -1
		       : 0;
}

static int check_pair(struct bench *b, int w, int o, uint32_t *host, size_t words)
{
	struct cuda *cu = &b->cu;
	struct gpu *x = &b->g[w], *y = &b->g[o];
	uint32_t seed = 0x9E3779B9u * (uint32_t)(w * MAX_GPUS + o + 1), seed2 = ~seed, n = (uint32_t)words;
	void *params[] = { &y->a, &n, &seed2 };

	if (bench_peer(b, w, o, true) < 0 || bench_peer(b, o, w, true) < 0)
		return -1;
	/* 1. A copy over P2P from the writer's buffer into the owner's. */
	for (size_t k = 0; k < words; k++)
		host[k] = (uint32_t)k ^ seed;
	if (clear(b, o, words) < 0 || bench_failed(b, cu->CtxSetCurrent(x->ctx), "cuCtxSetCurrent") ||
	    bench_failed(b, cu->MemcpyHtoD(x->b, host, words * 4), "cuMemcpyHtoD") ||
	    bench_failed(b, cu->MemcpyPeerAsync(y->a, y->ctx, x->b, x->ctx, words * 4, x->stream),
			 "cuMemcpyPeerAsync") ||
	    bench_failed(b, cu->StreamSynchronize(x->stream), "cuStreamSynchronize"))
		return -1;
	memset(host, 0, words * 4);
	b->copy_ok[w][o] = owner_sees(b, o, seed, host, words);
	/* 2. A kernel on the writer storing through the peer mapping. */
	if (clear(b, o, words) < 0 || bench_failed(b, cu->CtxSetCurrent(x->ctx), "cuCtxSetCurrent") ||
	    bench_failed(b, cu->LaunchKernel(x->kernel, (n + 255) / 256, 1, 1, 256, 1, 1, 0, x->stream, params, NULL),
			 "cuLaunchKernel") ||
	    bench_failed(b, cu->StreamSynchronize(x->stream), "cuStreamSynchronize"))
		return -1;
	memset(host, 0, words * 4);
	b->kernel_ok[w][o] = owner_sees(b, o, seed2, host, words);
	bench_peer(b, w, o, false);
	bench_peer(b, o, w, false);
	return 0;
}

int bench_verify(struct bench *b)
{
	size_t bytes = b->size < CHECK_BYTES ? b->size : CHECK_BYTES, words = bytes / 4;
	uint32_t *host = malloc(bytes);
	int r = 0;

	if (!host)
		return -1;
	for (int w = 0; w < b->n && r == 0; w++)
		for (int o = 0; o < b->n && r == 0; o++) {
			b->copy_ok[w][o] = b->kernel_ok[w][o] = V_NOT_RUN;
			if (w != o && b->can[w][o])
				r = check_pair(b, w, o, host, words);
		}
	free(host);
	return r;
}

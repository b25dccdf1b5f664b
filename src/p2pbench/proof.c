/* The data proof (see proof.h). */
#include "proof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* write_pattern(u32 *dst, u32 n, u32 seed): dst[k] = k ^ seed. PTX 6.0 for
 * sm_50: the driver JIT-compiles it for any newer GPU. */
static const char write_pattern_ptx[] =
	".version 6.0\n"
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

int proof_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	}
	if (*end || v < 4 || v % 4 || v > (1ULL << 40))
		return -1;
	*out = (size_t)v;
	return 0;
}

int proof_open(struct cuda *cu, CUdevice dev, size_t size, struct proof_gpu *g)
{
	*g = (struct proof_gpu){ .dev = dev, .size = size };
	if (cuda_failed(cu, cu->DevicePrimaryCtxRetain(&g->ctx, dev), "cuDevicePrimaryCtxRetain"))
		return -1;
	if (cuda_failed(cu, cu->CtxSetCurrent(g->ctx), "cuCtxSetCurrent") ||
	    cuda_failed(cu, cu->StreamCreate(&g->stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate") ||
	    cuda_failed(cu, cu->MemAlloc(&g->a, size), "cuMemAlloc") ||
	    cuda_failed(cu, cu->MemAlloc(&g->b, size), "cuMemAlloc") ||
	    cuda_failed(cu, cu->ModuleLoadData(&g->mod, write_pattern_ptx), "cuModuleLoadData") ||
	    cuda_failed(cu, cu->ModuleGetFunction(&g->kernel, g->mod, "write_pattern"), "cuModuleGetFunction"))
		return -1;
	return 0;
}

void proof_close(struct cuda *cu, struct proof_gpu *g)
{
	if (!g->ctx)
		return;
	cu->CtxSetCurrent(g->ctx);
	if (g->mod)
		cu->ModuleUnload(g->mod);
	if (g->a)
		cu->MemFree(g->a);
	if (g->b)
		cu->MemFree(g->b);
	if (g->stream)
		cu->StreamDestroy(g->stream);
	cu->DevicePrimaryCtxRelease(g->dev);
	*g = (struct proof_gpu){ 0 };
}

int proof_peer(struct cuda *cu, const struct proof_gpu *from, const struct proof_gpu *to, bool on)
{
	CUresult r;

	if (cuda_failed(cu, cu->CtxSetCurrent(from->ctx), "cuCtxSetCurrent"))
		return -1;
	r = on ? cu->CtxEnablePeerAccess(to->ctx, 0) : cu->CtxDisablePeerAccess(to->ctx);
	if (r == CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED || r == CUDA_ERROR_PEER_ACCESS_NOT_ENABLED)
		return 0;
	return cuda_failed(cu, r, on ? "cuCtxEnablePeerAccess" : "cuCtxDisablePeerAccess") ? -1 : 0;
}

/* The owner reads its own buffer back; every word must be k ^ seed. */
static enum verdict owner_sees(struct cuda *cu, const struct proof_gpu *o, uint32_t seed, uint32_t *host, size_t words)
{
	memset(host, 0, words * 4);
	if (cuda_failed(cu, cu->CtxSetCurrent(o->ctx), "cuCtxSetCurrent") ||
	    cuda_failed(cu, cu->MemcpyDtoH(host, o->a, words * 4), "cuMemcpyDtoH"))
		return V_FAIL;
	for (size_t k = 0; k < words; k++)
		if (host[k] != ((uint32_t)k ^ seed))
			return V_FAIL;
	return V_PASS;
}

/* A memset, and a copy from pageable memory, run on the legacy stream and
 * may not have finished when the call returns; the writer's stream is
 * non-blocking and does not wait for them. So wait here: a late memset
 * would wipe what the writer stored, a late copy would send stale data,
 * and a healthy pair would FAIL. */
static int settled(struct cuda *cu)
{
	return cuda_failed(cu, cu->StreamSynchronize(NULL), "cuStreamSynchronize") ? -1 : 0;
}

static int clear(struct cuda *cu, const struct proof_gpu *o, size_t words)
{
	return cuda_failed(cu, cu->CtxSetCurrent(o->ctx), "cuCtxSetCurrent") ||
			       cuda_failed(cu, cu->MemsetD32(o->a, 0, words), "cuMemsetD32") || settled(cu) < 0
		       ? -1
		       : 0;
}

/* 1. A copy over P2P from the writer's buffer into the owner's. */
static int copy_test(struct cuda *cu, const struct proof_gpu *x, const struct proof_gpu *y, uint32_t seed,
		     uint32_t *host, size_t words, enum verdict *out)
{
	for (size_t k = 0; k < words; k++)
		host[k] = (uint32_t)k ^ seed;
	if (clear(cu, y, words) < 0 || cuda_failed(cu, cu->CtxSetCurrent(x->ctx), "cuCtxSetCurrent") ||
	    cuda_failed(cu, cu->MemcpyHtoD(x->b, host, words * 4), "cuMemcpyHtoD") || settled(cu) < 0 ||
	    cuda_failed(cu, cu->MemcpyPeerAsync(y->a, y->ctx, x->b, x->ctx, words * 4, x->stream),
			"cuMemcpyPeerAsync") ||
	    cuda_failed(cu, cu->StreamSynchronize(x->stream), "cuStreamSynchronize"))
		return -1;
	*out = owner_sees(cu, y, seed, host, words);
	return 0;
}

/* 2. A kernel on the writer storing through the peer mapping. */
static int kernel_test(struct cuda *cu, const struct proof_gpu *x, const struct proof_gpu *y, uint32_t seed,
		       uint32_t *host, size_t words, enum verdict *out)
{
	CUdeviceptr dst = y->a;
	uint32_t n = (uint32_t)words;
	void *params[] = { &dst, &n, &seed };

	if (clear(cu, y, words) < 0 || cuda_failed(cu, cu->CtxSetCurrent(x->ctx), "cuCtxSetCurrent") ||
	    cuda_failed(cu, cu->LaunchKernel(x->kernel, (n + 255) / 256, 1, 1, 256, 1, 1, 0, x->stream, params, NULL),
			"cuLaunchKernel") ||
	    cuda_failed(cu, cu->StreamSynchronize(x->stream), "cuStreamSynchronize"))
		return -1;
	*out = owner_sees(cu, y, seed, host, words);
	return 0;
}

int proof_pair(struct cuda *cu, const struct proof_gpu *w, const struct proof_gpu *o, size_t bytes, uint32_t *host,
	       struct proof_result *out)
{
	/* A seed per ordered pair: a stale pattern from another pair fails. */
	uint32_t seed = 0x9E3779B9u * (uint32_t)(w->dev * 64 + o->dev + 1);
	size_t words = (bytes < w->size ? bytes : w->size) / 4;
	int r;

	*out = (struct proof_result){ V_NOT_RUN, V_NOT_RUN };
	if (words > o->size / 4)
		words = o->size / 4;
	if (w != o && (proof_peer(cu, w, o, true) < 0 || proof_peer(cu, o, w, true) < 0))
		return -1;
	r = copy_test(cu, w, o, seed, host, words, &out->copy);
	if (r == 0)
		r = kernel_test(cu, w, o, ~seed, host, words, &out->kernel);
	if (w != o) {
		proof_peer(cu, w, o, false);
		proof_peer(cu, o, w, false);
	}
	return r;
}

const char *proof_verdict_name(enum verdict v)
{
	return v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "n/a";
}

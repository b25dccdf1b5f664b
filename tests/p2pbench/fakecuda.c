/* A test double of libcuda.so.1 for p2pbench, over host memory. It is
 * test code only: p2pbench loads it through the same dlopen("libcuda.so.1")
 * and cuGetProcAddress path as the real driver (LD_LIBRARY_PATH).
 *
 * Switches (environment):
 *   FAKECUDA_DEVICES=N      GPUs (default 2; 0 = the driver sees none)
 *   FAKECUDA_NO_PEER=1      no pair can access its peer
 *   FAKECUDA_PEERS=0-1,2-3  only these pairs can (as a driver honouring
 *                           cliques 0,0,1,1 would)
 *   FAKECUDA_BUSIDS=A,B,... the PCI bus id of each GPU (default 0000:1N:00.0)
 *   FAKECUDA_FAIL_ALLOC=1   cuMemAlloc fails (out of memory)
 *   FAKECUDA_MIRROR=1       writes over the peer mapping land in a private
 *                           copy, not in the owner's memory (the GeForce
 *                           report): reads by the owner see nothing
 *   FAKECUDA_HANG=1         a copy over P2P never returns (a hung data path)
 *   FAKECUDA_BAD_KERNEL=1   the kernel stores a wrong pattern (a kernel the
 *                           driver runs wrongly), on one GPU alone too
 *   FAKECUDA_DRIVER_VERSION=N  what cuDriverGetVersion says (default 12040;
 *                           11080 when built with FAKECUDA_V1_ONLY); asking
 *                           cuGetProcAddress for a newer API fails, as
 *                           strictly as a driver could
 *   FAKECUDA_V1_BROKEN=1    the old 4-argument cuGetProcAddress finds
 *                           nothing: only a caller of _v2 loads
 *   FAKECUDA_MISSING=NAME   the driver lacks entry point NAME
 *   FAKECUDA_ASYNC=1        cuMemsetD32 and cuMemcpyHtoD on the legacy
 *                           stream return before the device runs them,
 *                           as the real driver may (device memory, pageable
 *                           host memory): they run at the next
 *                           cuStreamSynchronize(NULL) or cuMemcpyDtoH of
 *                           that GPU, never before work on a non-blocking
 *                           stream, which does not wait for them
 * Built with -DFAKECUDA_V1_ONLY it exports only cuGetProcAddress, as CUDA
 * 11.x drivers do; otherwise also cuGetProcAddress_v2 (CUDA 12.0+, with its
 * symbolStatus argument).
 * Copies happen when issued; events read a clock that advances by a
 * bandwidth model (P2P on: 50 GB/s, staged: 20 GB/s), so figures are
 * deterministic and P2P on is faster. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

#define OK 0
#define E_INVALID 1
#define E_OOM 2
#define E_NO_DEVICE 100
#define E_ALREADY 704
#define E_NOT_ENABLED 705

struct alloc {
	char *mem, *mirror; /* mirror: what a peer's writes reach in MIRROR mode */
	size_t size;
	int dev;
	struct alloc *next;
};

struct ctx { int dev; };
struct stream { int dev; };
struct event { double t; };

static struct alloc *allocs;
static struct ctx ctxs[16];
static int current = -1;
static bool peer[16][16];
static double now_us; /* the model clock */

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : dflt;
}

static int ndev(void) { return env_int("FAKECUDA_DEVICES", 2); }

static struct alloc *find(CUdeviceptr p, size_t *off)
{
	for (struct alloc *a = allocs; a; a = a->next)
		if ((char *)(uintptr_t)p >= a->mem && (char *)(uintptr_t)p < a->mem + a->size) {
			*off = (size_t)((char *)(uintptr_t)p - a->mem);
			return a;
		}
	return NULL;
}

/* Where a write by device `by` into p lands. */
static char *target(CUdeviceptr p, int by)
{
	size_t off = 0;
	struct alloc *a = find(p, &off);

	if (!a)
		return NULL;
	if (a->dev != by && env_int("FAKECUDA_MIRROR", 0)) {
		if (!a->mirror)
			a->mirror = calloc(1, a->size);
		return a->mirror + off;
	}
	return a->mem + off;
}

static CUresult cuInit(unsigned f) { (void)f; return ndev() ? OK : E_NO_DEVICE; }
#ifdef FAKECUDA_V1_ONLY
#define DRIVER_VERSION 11080
#else
#define DRIVER_VERSION 12040
#endif
static int driver_version(void) { return env_int("FAKECUDA_DRIVER_VERSION", DRIVER_VERSION); }
/* Exported under its plain name, as every driver does. */
CUresult cuDriverGetVersion(int *v) { *v = driver_version(); return OK; }
static CUresult cuGetErrorString(CUresult r, const char **s)
{
	*s = r == E_OOM ? "out of memory" : r == E_NO_DEVICE ? "no CUDA-capable device is detected" : "fake error";
	return OK;
}
static CUresult cuDeviceGetCount(int *n) { *n = ndev(); return OK; }
static CUresult cuDeviceGet(int *d, int i) { if (i >= ndev()) return E_INVALID; *d = i; return OK; }
static CUresult cuDeviceGetName(char *s, int len, int d) { strncpy(s, "Fake GPU", (size_t)len); (void)d; return OK; }
/* The n-th comma-separated item of an environment list, or NULL. */
static const char *item(const char *name, int n, char *buf, size_t size)
{
	const char *p = getenv(name);

	for (; p && n > 0; n--)
		p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
	if (!p)
		return NULL;
	snprintf(buf, size, "%.*s", (int)strcspn(p, ","), p);
	return buf;
}

static bool peer_ok(int a, int b)
{
	char want[16], pair[16];

	if (a == b || env_int("FAKECUDA_NO_PEER", 0))
		return false;
	if (!getenv("FAKECUDA_PEERS"))
		return true;
	snprintf(want, sizeof(want), "%d-%d", a < b ? a : b, a < b ? b : a);
	for (int i = 0; item("FAKECUDA_PEERS", i, pair, sizeof(pair)); i++)
		if (!strcmp(pair, want))
			return true;
	return false;
}

static CUresult cuDeviceGetPCIBusId(char *s, int len, int d)
{
	char b[32];

	if (!item("FAKECUDA_BUSIDS", d, b, sizeof(b)))
		snprintf(b, sizeof(b), "0000:%02x:00.0", 0x10 + d);
	strncpy(s, b, (size_t)len);
	return OK;
}
static CUresult cuDevicePrimaryCtxRetain(struct ctx **c, int d) { ctxs[d].dev = d; *c = &ctxs[d]; return OK; }
static CUresult cuDevicePrimaryCtxRelease(int d) { (void)d; return OK; }
static CUresult cuCtxSetCurrent(struct ctx *c) { current = c ? c->dev : -1; return OK; }
static CUresult cuDeviceCanAccessPeer(int *can, int a, int b) { *can = peer_ok(a, b); return OK; }
static CUresult cuDeviceGetP2PAttribute(int *v, int attr, int a, int b)
{
	int can = peer_ok(a, b);

	*v = attr == 1 ? 0 : attr == 2 ? can : attr == 3 ? can : 0;
	return OK;
}
static CUresult cuCtxEnablePeerAccess(struct ctx *c, unsigned f)
{
	(void)f;
	if (!peer_ok(current, c->dev))
		return E_INVALID;
	if (peer[current][c->dev])
		return E_ALREADY;
	peer[current][c->dev] = true;
	return OK;
}
static CUresult cuCtxDisablePeerAccess(struct ctx *c)
{
	if (!peer[current][c->dev])
		return E_NOT_ENABLED;
	peer[current][c->dev] = false;
	return OK;
}
static CUresult cuMemAlloc(CUdeviceptr *p, size_t size)
{
	struct alloc *a;

	if (env_int("FAKECUDA_FAIL_ALLOC", 0) || !(a = calloc(1, sizeof(*a))) || !(a->mem = calloc(1, size)))
		return E_OOM;
	a->size = size;
	a->dev = current;
	a->next = allocs;
	allocs = a;
	*p = (CUdeviceptr)(uintptr_t)a->mem;
	return OK;
}
static CUresult cuMemFree(CUdeviceptr p)
{
	for (struct alloc **a = &allocs; *a; a = &(*a)->next)
		if ((CUdeviceptr)(uintptr_t)(*a)->mem == p) {
			struct alloc *dead = *a;

			*a = dead->next;
			free(dead->mem), free(dead->mirror), free(dead);
			return OK;
		}
	return E_INVALID;
}
/* FAKECUDA_ASYNC: the legacy stream's work of each GPU not run yet. */
struct pending {
	char *dst, *data; /* data: what to copy, or NULL for a memset */
	size_t n;
	uint32_t value;
	struct pending *next;
};
static struct pending *legacy[16];

static void run_legacy(int dev)
{
	while (dev >= 0 && legacy[dev]) {
		struct pending *p = legacy[dev];

		legacy[dev] = p->next;
		if (p->data)
			memcpy(p->dst, p->data, p->n);
		for (size_t i = 0; !p->data && i < p->n; i++)
			((uint32_t *)(void *)p->dst)[i] = p->value;
		free(p->data), free(p);
	}
}

/* Queued behind the GPU's earlier legacy-stream work; run at once unless
 * FAKECUDA_ASYNC. */
static CUresult legacy_op(CUdeviceptr d, const void *h, uint32_t v, size_t n)
{
	struct pending *p, **end;

	if (current < 0)
		return E_INVALID;
	if (!(p = calloc(1, sizeof(*p))) || (h && !(p->data = malloc(n))))
		return free(p), E_OOM;
	p->dst = (char *)(uintptr_t)d;
	p->n = n;
	p->value = v;
	if (h)
		memcpy(p->data, h, n);
	for (end = &legacy[current]; *end; end = &(*end)->next)
		;
	*end = p;
	if (!env_int("FAKECUDA_ASYNC", 0))
		run_legacy(current);
	return OK;
}
static CUresult cuMemcpyHtoD(CUdeviceptr d, const void *h, size_t n) { return legacy_op(d, h, 0, n); }
static CUresult cuMemcpyDtoH(void *h, CUdeviceptr d, size_t n) { run_legacy(current); memcpy(h, (void *)(uintptr_t)d, n); return OK; }
static CUresult cuMemsetD32(CUdeviceptr d, unsigned v, size_t n) { return legacy_op(d, NULL, v, n); }
static void advance(size_t bytes, bool p2p) { now_us += 2.0 + (double)bytes / (p2p ? 50e3 : 20e3); }
static CUresult cuMemcpyPeerAsync(CUdeviceptr dst, struct ctx *dc, CUdeviceptr src, struct ctx *sc, size_t n, void *s)
{
	bool p2p = peer[sc->dev][dc->dev] || peer[dc->dev][sc->dev];
	/* Staged copies go through host memory and land correctly; direct
	 * ones may hit the mirror. */
	char *to = p2p ? target(dst, sc->dev) : (char *)(uintptr_t)dst;

	(void)s;
	if (!to)
		return E_INVALID;
	while (p2p && env_int("FAKECUDA_HANG", 0))
		pause();
	memcpy(to, (void *)(uintptr_t)src, n);
	advance(n, p2p);
	return OK;
}
static CUresult cuMemcpyDtoDAsync(CUdeviceptr d, CUdeviceptr s, size_t n, void *st)
{
	(void)st;
	memcpy((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
	advance(n, true);
	return OK;
}
static CUresult cuStreamCreate(struct stream **s, unsigned f) { (void)f; *s = calloc(1, sizeof(**s)); (*s)->dev = current; return OK; }
static CUresult cuStreamDestroy(struct stream *s) { free(s); return OK; }
static CUresult cuStreamSynchronize(struct stream *s) { if (!s) run_legacy(current); return OK; }
static CUresult cuStreamWaitEvent(struct stream *s, struct event *e, unsigned f) { (void)s, (void)e, (void)f; return OK; }
static CUresult cuEventCreate(struct event **e, unsigned f) { (void)f; *e = calloc(1, sizeof(**e)); return OK; }
static CUresult cuEventDestroy(struct event *e) { free(e); return OK; }
static CUresult cuEventRecord(struct event *e, struct stream *s) { (void)s; e->t = now_us; return OK; }
static CUresult cuEventSynchronize(struct event *e) { (void)e; return OK; }
static CUresult cuEventElapsedTime(float *ms, struct event *a, struct event *b) { *ms = (float)((b->t - a->t) / 1e3); return OK; }
static CUresult cuModuleLoadData(void **m, const void *ptx)
{
	*m = strstr(ptx, ".entry write_pattern") ? (void *)1 : NULL;
	return *m ? OK : E_INVALID;
}
static CUresult cuModuleUnload(void *m) { (void)m; return OK; }
static CUresult cuModuleGetFunction(void **f, void *m, const char *name) { (void)m; *f = (void *)1; return strcmp(name, "write_pattern") ? E_INVALID : OK; }
/* write_pattern(dst, n, seed) run on the current device. */
static CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
			       unsigned sh, void *s, void **params, void **extra)
{
	CUdeviceptr dst = *(CUdeviceptr *)params[0];
	uint32_t n = *(uint32_t *)params[1], seed = *(uint32_t *)params[2];
	size_t off = 0;
	struct alloc *a = find(dst, &off);
	uint32_t *to;

	(void)f, (void)gy, (void)gz, (void)by, (void)bz, (void)sh, (void)s, (void)extra;
	if (!a || (a->dev != current && !peer[current][a->dev]) || (size_t)gx * bx < n)
		return E_INVALID;
	to = (uint32_t *)target(dst, current);
	for (uint32_t k = 0; k < n; k++)
		to[k] = k ^ seed ^ (uint32_t)env_int("FAKECUDA_BAD_KERNEL", 0);
	advance((size_t)n * 4, true);
	return OK;
}

#define ENTRY(n) { #n, (void *)n }
static const struct { const char *name; void *fn; } table[] = {
	ENTRY(cuInit), ENTRY(cuDriverGetVersion), ENTRY(cuGetErrorString), ENTRY(cuDeviceGetCount), ENTRY(cuDeviceGet),
	ENTRY(cuDeviceGetName), ENTRY(cuDeviceGetPCIBusId), ENTRY(cuDevicePrimaryCtxRetain),
	ENTRY(cuDevicePrimaryCtxRelease), ENTRY(cuCtxSetCurrent), ENTRY(cuDeviceCanAccessPeer),
	ENTRY(cuDeviceGetP2PAttribute), ENTRY(cuCtxEnablePeerAccess), ENTRY(cuCtxDisablePeerAccess), ENTRY(cuMemAlloc),
	ENTRY(cuMemFree), ENTRY(cuMemcpyHtoD), ENTRY(cuMemcpyDtoH), ENTRY(cuMemcpyPeerAsync), ENTRY(cuMemcpyDtoDAsync),
	ENTRY(cuMemsetD32), ENTRY(cuStreamCreate), ENTRY(cuStreamDestroy), ENTRY(cuStreamSynchronize),
	ENTRY(cuStreamWaitEvent), ENTRY(cuEventCreate), ENTRY(cuEventDestroy), ENTRY(cuEventRecord),
	ENTRY(cuEventSynchronize), ENTRY(cuEventElapsedTime), ENTRY(cuModuleLoadData), ENTRY(cuModuleUnload),
	ENTRY(cuModuleGetFunction), ENTRY(cuLaunchKernel),
};

#define NOT_FOUND 500 /* CUDA_ERROR_NOT_FOUND */

static void *find_entry(const char *name, int version)
{
	const char *missing = getenv("FAKECUDA_MISSING");

	if (version > driver_version() || (missing && !strcmp(missing, name)))
		return NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return table[i].fn;
	return NULL;
}

/* The CUDA 11.3 lookup: four arguments. */
CUresult cuGetProcAddress(const char *name, void **fn, int version, unsigned long long flags)
{
	(void)flags;
	*fn = env_int("FAKECUDA_V1_BROKEN", 0) ? NULL : find_entry(name, version);
	return *fn ? OK : NOT_FOUND;
}

#ifndef FAKECUDA_V1_ONLY
/* The CUDA 12.0 lookup: symbolStatus 0 found, 1 not found. */
CUresult cuGetProcAddress_v2(const char *name, void **fn, int version, unsigned long long flags, int *status)
{
	(void)flags;
	*fn = find_entry(name, version);
	*status = *fn ? 0 : 1;
	return *fn ? OK : NOT_FOUND;
}
#endif

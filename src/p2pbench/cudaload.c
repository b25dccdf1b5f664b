/* Loading the driver API (see cudaload.h). */
#include "cudaload.h"

#include <dlfcn.h>
#include <stdio.h>

/* CU_GET_PROC_ADDRESS_DEFAULT: the driver API's own (legacy stream)
 * variants; CU_GET_PROC_ADDRESS_SUCCESS: what symbolStatus says when the
 * symbol was found for the version asked. */
#define GETPROC_DEFAULT 0
#define GETPROC_FOUND 0

struct getproc {
	CUresult (*v2)(const char *, void **, int, unsigned long long, int *);
	CUresult (*v1)(const char *, void **, int, unsigned long long);
	int version;
};

/* One entry point; CUDA_ERROR_NOT_FOUND when the driver has none. */
static CUresult lookup(const struct getproc *gp, const char *name, void **slot)
{
	int status = -1;
	CUresult r;

	*slot = NULL;
	if (!gp->v2)
		return gp->v1(name, slot, gp->version, GETPROC_DEFAULT);
	r = gp->v2(name, slot, gp->version, GETPROC_DEFAULT, &status);
	return r == CUDA_SUCCESS && status != GETPROC_FOUND ? CUDA_ERROR_NOT_FOUND : r;
}

/* The lookup functions and the version to ask for: cuDriverGetVersion is
 * exported under its plain name by every driver since CUDA 2.2. Asking a
 * driver for a version newer than its own is not defined: ask its own. */
static int find_getproc(struct cuda *cu, struct getproc *gp, char *msg, size_t size)
{
	CUresult (*version)(int *) = (CUresult(*)(int *))dlsym(cu->lib, "cuDriverGetVersion");

	gp->v2 = (CUresult(*)(const char *, void **, int, unsigned long long, int *))dlsym(cu->lib,
											   "cuGetProcAddress_v2");
	gp->v1 = (CUresult(*)(const char *, void **, int, unsigned long long))dlsym(cu->lib, "cuGetProcAddress");
	if ((!gp->v2 && !gp->v1) || !version || version(&cu->driver_version) != CUDA_SUCCESS) {
		snprintf(msg, size, "the NVIDIA driver is too old: libcuda.so.1 has no cuGetProcAddress (CUDA 11.3+)");
		return -1;
	}
	cu->getproc = gp->v2 ? "cuGetProcAddress_v2" : "cuGetProcAddress";
	gp->version = cu->driver_version < CUDA_API_VERSION ? cu->driver_version : CUDA_API_VERSION;
	return 0;
}

int cuda_load(struct cuda *cu, char *msg, size_t size)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
#define S(n) { "cu" #n, offsetof(struct cuda, n) }
		S(Init),
		S(DriverGetVersion),
		S(GetErrorString),
		S(DeviceGetCount),
		S(DeviceGet),
		S(DeviceGetName),
		S(DeviceGetPCIBusId),
		S(DevicePrimaryCtxRetain),
		S(DevicePrimaryCtxRelease),
		S(CtxSetCurrent),
		S(DeviceCanAccessPeer),
		S(DeviceGetP2PAttribute),
		S(CtxEnablePeerAccess),
		S(CtxDisablePeerAccess),
		S(MemAlloc),
		S(MemFree),
		S(MemcpyHtoD),
		S(MemcpyDtoH),
		S(MemcpyPeerAsync),
		S(MemcpyDtoDAsync),
		S(MemsetD32),
		S(StreamCreate),
		S(StreamDestroy),
		S(StreamSynchronize),
		S(StreamWaitEvent),
		S(EventCreate),
		S(EventDestroy),
		S(EventRecord),
		S(EventSynchronize),
		S(EventElapsedTime),
		S(ModuleLoadData),
		S(ModuleUnload),
		S(ModuleGetFunction),
		S(LaunchKernel),
#undef S
	};
	struct getproc gp;

	cu->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!cu->lib) {
		snprintf(msg, size, "no NVIDIA driver: cannot load libcuda.so.1 (%s)", dlerror());
		return -1;
	}
	if (find_getproc(cu, &gp, msg, size) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void **slot = (void **)((char *)cu + syms[i].off);

		if (lookup(&gp, syms[i].name, slot) != CUDA_SUCCESS || !*slot) {
			snprintf(msg, size, "the NVIDIA driver (CUDA %d.%d) does not provide %s through %s",
				 cu->driver_version / 1000, cu->driver_version % 1000 / 10, syms[i].name, cu->getproc);
			return -1;
		}
	}
	return 0;
}

const char *cuda_error(const struct cuda *cu, CUresult r)
{
	const char *s = NULL;

	if (cu->GetErrorString && cu->GetErrorString(r, &s) == CUDA_SUCCESS && s)
		return s;
	return "unknown CUDA error";
}

bool cuda_failed(struct cuda *cu, CUresult r, const char *what)
{
	if (r == CUDA_SUCCESS)
		return false;
	if (!cu->error[0])
		snprintf(cu->error, sizeof(cu->error), "%s: %s (%d)", what, cuda_error(cu, r), r);
	return true;
}

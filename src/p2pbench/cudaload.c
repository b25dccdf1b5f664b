/* Loading the driver API (see cudaload.h). */
#include "cudaload.h"

#include <dlfcn.h>
#include <stdio.h>

/* cuGetProcAddress as exported since CUDA 11.3 (the 4-argument form). */
typedef CUresult (*getproc_fn)(const char *, void **, int, unsigned long long);

/* The API version we ask for: 12.0 semantics (cuMemAlloc is _v2, ...). */
#define P2PBENCH_CUDA_VERSION 12000

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
	getproc_fn getproc;

	cu->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!cu->lib) {
		snprintf(msg, size, "no NVIDIA driver: cannot load libcuda.so.1 (%s)", dlerror());
		return -1;
	}
	getproc = (getproc_fn)dlsym(cu->lib, "cuGetProcAddress");
	if (!getproc) {
		snprintf(msg, size, "the NVIDIA driver is too old: libcuda.so.1 has no cuGetProcAddress (CUDA 11.3+)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void **slot = (void **)((char *)cu + syms[i].off);

		if (getproc(syms[i].name, slot, P2PBENCH_CUDA_VERSION, 0) != CUDA_SUCCESS || !*slot) {
			snprintf(msg, size, "the NVIDIA driver does not provide %s", syms[i].name);
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

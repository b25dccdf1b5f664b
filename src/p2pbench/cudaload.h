/* The CUDA driver API, loaded at run time: dlopen("libcuda.so.1") and every
 * entry point fetched through the driver's own cuGetProcAddress, so
 * p2pbench and qemu-p2p-guest build without the CUDA toolkit. Only what
 * they use is declared here, with the driver's ABI (cuda.h's values).
 *
 * Two lookups exist side by side in CUDA 12 and newer drivers:
 * cuGetProcAddress (CUDA 11.3, four arguments) and cuGetProcAddress_v2
 * (CUDA 12.0, a fifth argument symbolStatus it writes through; CUDA 13's
 * cuda.h maps the plain name to it). Each is called through its own
 * prototype: _v2 when the driver exports it, else the old one. */
#ifndef P2PBENCH_CUDALOAD_H
#define P2PBENCH_CUDALOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;

#define CUDA_SUCCESS 0
#define CUDA_ERROR_NO_DEVICE 100
#define CUDA_ERROR_NOT_FOUND 500
#define CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED 704
#define CUDA_ERROR_PEER_ACCESS_NOT_ENABLED 705
#define CU_STREAM_NON_BLOCKING 1
#define CU_EVENT_DEFAULT 0

enum {
	CU_DEVICE_P2P_ATTRIBUTE_PERFORMANCE_RANK = 1,
	CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED = 2,
	CU_DEVICE_P2P_ATTRIBUTE_NATIVE_ATOMIC_SUPPORTED = 3,
	CU_DEVICE_P2P_ATTRIBUTE_CUDA_ARRAY_ACCESS_SUPPORTED = 4,
};

/* The API version asked of cuGetProcAddress (12.0: cuMemAlloc is _v2, ...),
 * or the driver's own when older. */
#define CUDA_API_VERSION 12000

struct cuda {
	void *lib;
	int driver_version;  /* cuDriverGetVersion: 12040 is CUDA 12.4 */
	const char *getproc; /* the lookup used: "cuGetProcAddress_v2" or "cuGetProcAddress" */
	char error[256];     /* the first failing call (cuda_failed) */
	CUresult (*Init)(unsigned);
	CUresult (*DriverGetVersion)(int *);
	CUresult (*GetErrorString)(CUresult, const char **);
	CUresult (*DeviceGetCount)(int *);
	CUresult (*DeviceGet)(CUdevice *, int);
	CUresult (*DeviceGetName)(char *, int, CUdevice);
	CUresult (*DeviceGetPCIBusId)(char *, int, CUdevice);
	CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
	CUresult (*DevicePrimaryCtxRelease)(CUdevice);
	CUresult (*CtxSetCurrent)(CUcontext);
	CUresult (*DeviceCanAccessPeer)(int *, CUdevice, CUdevice);
	CUresult (*DeviceGetP2PAttribute)(int *, int, CUdevice, CUdevice);
	CUresult (*CtxEnablePeerAccess)(CUcontext, unsigned);
	CUresult (*CtxDisablePeerAccess)(CUcontext);
	CUresult (*MemAlloc)(CUdeviceptr *, size_t);
	CUresult (*MemFree)(CUdeviceptr);
	CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
	CUresult (*MemcpyDtoH)(void *, CUdeviceptr, size_t);
	CUresult (*MemcpyPeerAsync)(CUdeviceptr, CUcontext, CUdeviceptr, CUcontext, size_t, CUstream);
	CUresult (*MemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
	CUresult (*MemsetD32)(CUdeviceptr, unsigned, size_t);
	CUresult (*StreamCreate)(CUstream *, unsigned);
	CUresult (*StreamDestroy)(CUstream);
	CUresult (*StreamSynchronize)(CUstream);
	CUresult (*StreamWaitEvent)(CUstream, CUevent, unsigned);
	CUresult (*EventCreate)(CUevent *, unsigned);
	CUresult (*EventDestroy)(CUevent);
	CUresult (*EventRecord)(CUevent, CUstream);
	CUresult (*EventSynchronize)(CUevent);
	CUresult (*EventElapsedTime)(float *, CUevent, CUevent);
	CUresult (*ModuleLoadData)(CUmodule *, const void *);
	CUresult (*ModuleUnload)(CUmodule);
	CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
	CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
				 CUstream, void **, void **);
};

/* Loads libcuda.so.1 and every entry point; on failure says why in msg
 * (a missing driver, a driver too old for cuGetProcAddress) and returns -1. */
int cuda_load(struct cuda *cu, char *msg, size_t size);

/* The driver's own text for an error ("out of memory"). */
const char *cuda_error(const struct cuda *cu, CUresult r);

/* Records the first failing call in cu->error ("cuMemAlloc: out of memory
 * (2)"); true when r is an error. */
bool cuda_failed(struct cuda *cu, CUresult r, const char *what);

#endif

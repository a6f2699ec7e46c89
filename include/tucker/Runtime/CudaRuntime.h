/*===- CudaRuntime.h - tucker's CUDA driver runtime (C API) ------*- C -*-===*\
|*                                                                            *|
|* A small C API over the CUDA driver, used by the host side of kernels that  *|
|* tucker compiles (and by Python through ctypes). The driver (libcuda.so.1)  *|
|* is loaded with dlopen on first use, so nothing needs CUDA to build, and a  *|
|* machine without a driver gets a clean error instead of a crash.            *|
|*                                                                            *|
|* Conventions                                                                *|
|*  - Every function returns 0 on success and a non-zero code on failure: the *|
|*    CUresult of the failing driver call, or one of the TUCKER_CUDA_ERROR_*  *|
|*    codes below for failures of this library itself. Nothing aborts.       *|
|*  - On failure a message is kept per thread: tuckerCudaGetLastError()       *|
|*    returns it (name of the call, CUresult name and description from        *|
|*    cuGetErrorName / cuGetErrorString, and what was being done). It stays   *|
|*    until the next failure or tuckerCudaClearError().                       *|
|*  - Handles (context, module, function, stream) are opaque pointers; a      *|
|*    stream may be NULL (legacy default stream) or any CUstream /            *|
|*    cudaStream_t, e.g. torch.cuda.current_stream().cuda_stream.             *|
|*  - Device pointers are uint64_t (CUdeviceptr), e.g. tensor.data_ptr().     *|
\*===----------------------------------------------------------------------===*/

#ifndef TUCKER_RUNTIME_CUDARUNTIME_H
#define TUCKER_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TUCKER_CUDA_EXPORT __declspec(dllexport)
#else
#define TUCKER_CUDA_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Codes of this library (distinct from every CUresult, which are < 1000). */
enum {
  TUCKER_CUDA_SUCCESS = 0,
  TUCKER_CUDA_ERROR_DRIVER_NOT_FOUND = 10001, /* dlopen(libcuda.so.1) failed */
  TUCKER_CUDA_ERROR_SYMBOL_NOT_FOUND = 10002, /* driver lacks an entry point */
  TUCKER_CUDA_ERROR_INVALID_ARGUMENT = 10003, /* checked before the driver  */
  TUCKER_CUDA_ERROR_NOT_INITIALIZED = 10004   /* no context: call Init     */
};

/* Tensor-map enums (values of the CUDA driver's CUtensorMap* enums). */
enum {
  TUCKER_TMA_DTYPE_UINT8 = 0,
  TUCKER_TMA_DTYPE_UINT16 = 1,
  TUCKER_TMA_DTYPE_UINT32 = 2,
  TUCKER_TMA_DTYPE_INT32 = 3,
  TUCKER_TMA_DTYPE_UINT64 = 4,
  TUCKER_TMA_DTYPE_INT64 = 5,
  TUCKER_TMA_DTYPE_FLOAT16 = 6,
  TUCKER_TMA_DTYPE_FLOAT32 = 7,
  TUCKER_TMA_DTYPE_FLOAT64 = 8,
  TUCKER_TMA_DTYPE_BFLOAT16 = 9
};
enum {
  TUCKER_TMA_SWIZZLE_NONE = 0,
  TUCKER_TMA_SWIZZLE_32B = 1,
  TUCKER_TMA_SWIZZLE_64B = 2,
  TUCKER_TMA_SWIZZLE_128B = 3
};
enum {
  TUCKER_TMA_INTERLEAVE_NONE = 0,
  TUCKER_TMA_INTERLEAVE_16B = 1,
  TUCKER_TMA_INTERLEAVE_32B = 2
};
enum {
  TUCKER_TMA_L2_NONE = 0,
  TUCKER_TMA_L2_64B = 1,
  TUCKER_TMA_L2_128B = 2,
  TUCKER_TMA_L2_256B = 3
};
enum { TUCKER_TMA_OOB_ZERO = 0, TUCKER_TMA_OOB_NAN = 1 };

/* Size and alignment of a CUtensorMap. */
#define TUCKER_TENSOR_MAP_BYTES 128
#define TUCKER_TENSOR_MAP_ALIGN 64

typedef struct TuckerCudaContextOpaque *TuckerCudaContext;
typedef struct TuckerCudaModuleOpaque *TuckerCudaModule;
typedef struct TuckerCudaFunctionOpaque *TuckerCudaFunction;
typedef struct TuckerCudaStreamOpaque *TuckerCudaStream;

/*--- errors ----------------------------------------------------------------*/

/* The calling thread's last error message ("" when none). */
TUCKER_CUDA_EXPORT const char *tuckerCudaGetLastError(void);
/* The calling thread's last error code (0 when none). */
TUCKER_CUDA_EXPORT int tuckerCudaGetLastErrorCode(void);
TUCKER_CUDA_EXPORT void tuckerCudaClearError(void);

/*--- driver and context ----------------------------------------------------*/

/* Loads the driver (if not yet loaded) and cuInit(0). Returns 0 when a usable
   driver is present. `libraryPath` may be NULL (libcuda.so.1, then
   libcuda.so); the environment variable TUCKER_CUDA_DRIVER overrides both. */
TUCKER_CUDA_EXPORT int tuckerCudaLoadDriver(const char *libraryPath);
/* Driver version as an integer, e.g. 13000. */
TUCKER_CUDA_EXPORT int tuckerCudaDriverVersion(int *version);
TUCKER_CUDA_EXPORT int tuckerCudaDeviceCount(int *count);
/* Retains the primary context of `device` and makes it current on the calling
   thread (the context PyTorch uses, so the two share memory and streams). */
TUCKER_CUDA_EXPORT int tuckerCudaInit(int device, TuckerCudaContext *context);
/* Makes the context current on the calling thread. */
TUCKER_CUDA_EXPORT int tuckerCudaSetContext(TuckerCudaContext context);
/* Releases the primary context retained by tuckerCudaInit. */
TUCKER_CUDA_EXPORT int tuckerCudaRelease(int device);
/* cuDeviceGetAttribute (CUdevice_attribute numbering). */
TUCKER_CUDA_EXPORT int tuckerCudaDeviceAttribute(int device, int attribute,
                                                 int *value);
/* Compute capability, e.g. 9 and 0 for sm_90. */
TUCKER_CUDA_EXPORT int tuckerCudaComputeCapability(int device, int *major,
                                                   int *minor);

/*--- modules and functions -------------------------------------------------*/

/* Loads a module from an image in memory: a cubin/fatbin (`size` bytes) or
   PTX text (NUL-terminated; `size` may be 0). For PTX, the JIT's error log is
   part of the error message. */
TUCKER_CUDA_EXPORT int tuckerCudaModuleLoadData(const void *image, size_t size,
                                                TuckerCudaModule *module);
TUCKER_CUDA_EXPORT int tuckerCudaModuleUnload(TuckerCudaModule module);
TUCKER_CUDA_EXPORT int tuckerCudaModuleGetFunction(TuckerCudaModule module,
                                                   const char *name,
                                                   TuckerCudaFunction *function);
/* cuFuncGetAttribute (CUfunction_attribute numbering: 0 max threads per
   block, 1 static shared bytes, 3 local bytes, 4 registers, 8 max dynamic
   shared bytes). */
TUCKER_CUDA_EXPORT int tuckerCudaFunctionAttribute(TuckerCudaFunction function,
                                                   int attribute, int *value);

/*--- launch ----------------------------------------------------------------*/

/* cuLaunchKernel. `args` is an array of pointers to the argument values, as
   the driver wants it. When `dynamicSharedBytes` exceeds the function's
   current dynamic shared memory limit, the limit is raised first
   (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES). If no context is current
   on the calling thread, the one from tuckerCudaInit is made current. */
TUCKER_CUDA_EXPORT int tuckerCudaLaunch(TuckerCudaFunction function,
                                        unsigned gridX, unsigned gridY,
                                        unsigned gridZ, unsigned blockX,
                                        unsigned blockY, unsigned blockZ,
                                        unsigned dynamicSharedBytes,
                                        TuckerCudaStream stream, void **args);

/* tuckerCudaLaunch with programmatic stream serialization
   (CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, cuLaunchKernelEx):
   the kernel may start before the previous work on `stream` has finished,
   so it must begin with griddepcontrol.wait before touching global memory
   (the generated decode kernels do). A plain launch where the driver lacks
   cuLaunchKernelEx. */
TUCKER_CUDA_EXPORT int tuckerCudaLaunchDependent(
    TuckerCudaFunction function, unsigned gridX, unsigned gridY,
    unsigned gridZ, unsigned blockX, unsigned blockY, unsigned blockZ,
    unsigned dynamicSharedBytes, TuckerCudaStream stream, void **args);

/*--- memory and streams (for tests, tensor maps and small host code) -------*/

TUCKER_CUDA_EXPORT int tuckerCudaMalloc(uint64_t *devicePtr, size_t bytes);
TUCKER_CUDA_EXPORT int tuckerCudaFree(uint64_t devicePtr);
/* Stream-ordered: allocated from the device's default memory pool in the order
   of `stream` (cuMemAllocAsync; the pool keeps freed memory for reuse), freed
   likewise (cuMemFreeAsync); neither waits. Without the driver's stream-ordered
   allocator, cuMemAlloc / cuMemFree. */
TUCKER_CUDA_EXPORT int tuckerCudaMallocAsync(uint64_t *devicePtr, size_t bytes,
                                             TuckerCudaStream stream);
TUCKER_CUDA_EXPORT int tuckerCudaFreeAsync(uint64_t devicePtr,
                                           TuckerCudaStream stream);
TUCKER_CUDA_EXPORT int tuckerCudaMemcpyHtoD(uint64_t dst, const void *src,
                                            size_t bytes);
TUCKER_CUDA_EXPORT int tuckerCudaMemcpyHtoDAsync(uint64_t dst, const void *src,
                                                 size_t bytes,
                                                 TuckerCudaStream stream);
/* Allocates `bytes` of device memory holding a copy of `src`, complete on
   return, for the life of the process unless freed. Legal while a stream of
   the process is capturing a CUDA graph (the copy neither joins the capture
   nor waits for it), so that a first call under capture can upload what it
   needs (tensor maps, constants). */
TUCKER_CUDA_EXPORT int tuckerCudaUpload(uint64_t *devicePtr, const void *src,
                                        size_t bytes);
/* Likewise, `bytes` of zeros (free with tuckerCudaFree). */
TUCKER_CUDA_EXPORT int tuckerCudaAllocZeroed(uint64_t *devicePtr, size_t bytes);
/* Sets `count` elements of 2 or 4 bytes at `dst` to `value` (its low bytes),
   in the order of `stream`. */
TUCKER_CUDA_EXPORT int tuckerCudaMemsetAsync(uint64_t dst, unsigned value,
                                             int bytesPerElement, size_t count,
                                             TuckerCudaStream stream);
TUCKER_CUDA_EXPORT int tuckerCudaMemcpyDtoH(void *dst, uint64_t src,
                                            size_t bytes);
TUCKER_CUDA_EXPORT int tuckerCudaStreamSynchronize(TuckerCudaStream stream);
TUCKER_CUDA_EXPORT int tuckerCudaContextSynchronize(void);

/*--- tensor memory access (TMA) descriptors --------------------------------*/

/* cuTensorMapEncodeTiled into `tensorMap` (TUCKER_TENSOR_MAP_BYTES bytes,
   aligned to TUCKER_TENSOR_MAP_ALIGN). Rank 2..5 (1 is accepted too).
   Dimensions are innermost first: globalDims[0] is the contiguous one.
   globalStridesBytes has rank-1 entries: the byte stride of dims 1..rank-1
   (each a multiple of 16). boxDims: the tile, innermost first (each <= 256;
   with swizzle, boxDims[0] * elementSize <= the swizzle span).
   elementStrides may be NULL (all 1). The arguments are checked here first so
   that a bad one gets a message saying which. */
TUCKER_CUDA_EXPORT int tuckerCudaEncodeTiledTensorMap(
    void *tensorMap, int dataType, unsigned rank, uint64_t globalAddress,
    const uint64_t *globalDims, const uint64_t *globalStridesBytes,
    const uint32_t *boxDims, const uint32_t *elementStrides, int interleave,
    int swizzle, int l2Promotion, int oobFill);

#ifdef __cplusplus
}
#endif

#endif /* TUCKER_RUNTIME_CUDARUNTIME_H */

//===- CudaRuntime.cpp - tucker's CUDA driver runtime ---------------------===//
//
// Loads libcuda.so.1 with dlopen at run time and wraps the few driver entry
// points that tucker's host code needs. No CUDA header is used: the handful of
// driver types and enum values are declared below, as the driver API defines
// them (they are part of its stable ABI).
//
//===----------------------------------------------------------------------===//

#include "tucker/Runtime/CudaRuntime.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace {

//===----------------------------------------------------------------------===//
// Driver ABI (the subset we use)
//===----------------------------------------------------------------------===//

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUjit_option = int;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr CUjit_option CU_JIT_INFO_LOG_BUFFER = 3;
constexpr CUjit_option CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

struct alignas(64) CUtensorMap {
  unsigned long long opaque[16];
};
static_assert(sizeof(CUtensorMap) == TUCKER_TENSOR_MAP_BYTES,
              "CUtensorMap is 128 bytes");

// Function pointer types, one per entry point.
using PFN_cuGetErrorName = CUresult (*)(CUresult, const char **);
using PFN_cuGetErrorString = CUresult (*)(CUresult, const char **);
using PFN_cuInit = CUresult (*)(unsigned);
using PFN_cuDriverGetVersion = CUresult (*)(int *);
using PFN_cuDeviceGetCount = CUresult (*)(int *);
using PFN_cuDeviceGet = CUresult (*)(CUdevice *, int);
using PFN_cuDeviceGetAttribute = CUresult (*)(int *, int, CUdevice);
using PFN_cuDevicePrimaryCtxRetain = CUresult (*)(CUcontext *, CUdevice);
using PFN_cuDevicePrimaryCtxRelease = CUresult (*)(CUdevice);
using PFN_cuCtxSetCurrent = CUresult (*)(CUcontext);
using PFN_cuCtxGetCurrent = CUresult (*)(CUcontext *);
using PFN_cuCtxSynchronize = CUresult (*)();
using PFN_cuModuleLoadDataEx = CUresult (*)(CUmodule *, const void *, unsigned,
                                            CUjit_option *, void **);
using PFN_cuModuleUnload = CUresult (*)(CUmodule);
using PFN_cuModuleGetFunction = CUresult (*)(CUfunction *, CUmodule,
                                             const char *);
using PFN_cuFuncGetAttribute = CUresult (*)(int *, int, CUfunction);
using PFN_cuFuncSetAttribute = CUresult (*)(CUfunction, int, int);
using PFN_cuLaunchKernel = CUresult (*)(CUfunction, unsigned, unsigned,
                                        unsigned, unsigned, unsigned, unsigned,
                                        unsigned, CUstream, void **, void **);
using PFN_cuMemAlloc = CUresult (*)(CUdeviceptr *, size_t);
using PFN_cuMemFree = CUresult (*)(CUdeviceptr);
using PFN_cuMemcpyHtoD = CUresult (*)(CUdeviceptr, const void *, size_t);
using PFN_cuMemcpyHtoDAsync = CUresult (*)(CUdeviceptr, const void *, size_t,
                                           CUstream);
using PFN_cuMemcpyDtoH = CUresult (*)(void *, CUdeviceptr, size_t);
using PFN_cuMemsetD8Async = CUresult (*)(CUdeviceptr, unsigned char, size_t,
                                         CUstream);
using PFN_cuMemsetD16Async = CUresult (*)(CUdeviceptr, unsigned short, size_t,
                                          CUstream);
using PFN_cuMemsetD32Async = CUresult (*)(CUdeviceptr, unsigned, size_t,
                                          CUstream);
using PFN_cuStreamSynchronize = CUresult (*)(CUstream);
using PFN_cuStreamCreate = CUresult (*)(CUstream *, unsigned);
using PFN_cuThreadExchangeStreamCaptureMode = CUresult (*)(int *);
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
using CUmemoryPool = void *;
using PFN_cuMemAllocAsync = CUresult (*)(CUdeviceptr *, size_t, CUstream);
using PFN_cuMemFreeAsync = CUresult (*)(CUdeviceptr, CUstream);
// cuLaunchKernelEx's configuration (cuda.h, CUDA 12.0 on): one launch
// attribute is a 4-byte id, 4 bytes of padding and a 64-byte value union.
struct LaunchAttribute {
  int id;
  char pad[4];
  union {
    char bytes[64];
    int programmaticStreamSerializationAllowed;
  } value;
};
struct LaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  CUstream stream;
  LaunchAttribute *attrs;
  unsigned numAttrs;
};
constexpr int kLaunchAttributeProgrammaticStreamSerialization = 6;
using PFN_cuLaunchKernelEx = CUresult (*)(const LaunchConfig *, CUfunction,
                                          void **, void **);
using PFN_cuCtxGetDevice = CUresult (*)(CUdevice *);
using PFN_cuDeviceGetDefaultMemPool = CUresult (*)(CUmemoryPool *, CUdevice);
using PFN_cuMemPoolSetAttribute = CUresult (*)(CUmemoryPool, int, void *);
constexpr int CU_MEMPOOL_ATTR_RELEASE_THRESHOLD = 4;
using PFN_cuTensorMapEncodeTiled = CUresult (*)(
    CUtensorMap *, int /*dataType*/, unsigned /*rank*/, void * /*address*/,
    const unsigned long long * /*dims*/, const unsigned long long * /*strides*/,
    const unsigned * /*box*/, const unsigned * /*elementStrides*/,
    int /*interleave*/, int /*swizzle*/, int /*l2Promotion*/, int /*oobFill*/);

struct Driver {
  void *handle = nullptr;
  std::string loadedFrom;
  PFN_cuGetErrorName cuGetErrorName = nullptr;
  PFN_cuGetErrorString cuGetErrorString = nullptr;
  PFN_cuInit cuInit = nullptr;
  PFN_cuDriverGetVersion cuDriverGetVersion = nullptr;
  PFN_cuDeviceGetCount cuDeviceGetCount = nullptr;
  PFN_cuDeviceGet cuDeviceGet = nullptr;
  PFN_cuDeviceGetAttribute cuDeviceGetAttribute = nullptr;
  PFN_cuDevicePrimaryCtxRetain cuDevicePrimaryCtxRetain = nullptr;
  PFN_cuDevicePrimaryCtxRelease cuDevicePrimaryCtxRelease = nullptr;
  PFN_cuCtxSetCurrent cuCtxSetCurrent = nullptr;
  PFN_cuCtxGetCurrent cuCtxGetCurrent = nullptr;
  PFN_cuCtxSynchronize cuCtxSynchronize = nullptr;
  PFN_cuModuleLoadDataEx cuModuleLoadDataEx = nullptr;
  PFN_cuModuleUnload cuModuleUnload = nullptr;
  PFN_cuModuleGetFunction cuModuleGetFunction = nullptr;
  PFN_cuFuncGetAttribute cuFuncGetAttribute = nullptr;
  PFN_cuFuncSetAttribute cuFuncSetAttribute = nullptr;
  PFN_cuLaunchKernel cuLaunchKernel = nullptr;
  PFN_cuMemAlloc cuMemAlloc = nullptr;
  PFN_cuMemFree cuMemFree = nullptr;
  PFN_cuMemcpyHtoD cuMemcpyHtoD = nullptr;
  PFN_cuMemcpyHtoDAsync cuMemcpyHtoDAsync = nullptr;
  PFN_cuMemcpyDtoH cuMemcpyDtoH = nullptr;
  PFN_cuMemsetD8Async cuMemsetD8Async = nullptr;
  PFN_cuMemsetD16Async cuMemsetD16Async = nullptr;
  PFN_cuMemsetD32Async cuMemsetD32Async = nullptr;
  PFN_cuStreamSynchronize cuStreamSynchronize = nullptr;
  PFN_cuStreamCreate cuStreamCreate = nullptr;
  PFN_cuThreadExchangeStreamCaptureMode cuThreadExchangeStreamCaptureMode =
      nullptr;
  PFN_cuTensorMapEncodeTiled cuTensorMapEncodeTiled = nullptr;
  // Stream-ordered allocation (CUDA 11.2 on); optional.
  PFN_cuMemAllocAsync cuMemAllocAsync = nullptr;
  PFN_cuMemFreeAsync cuMemFreeAsync = nullptr;
  PFN_cuLaunchKernelEx cuLaunchKernelEx = nullptr;
  PFN_cuCtxGetDevice cuCtxGetDevice = nullptr;
  PFN_cuDeviceGetDefaultMemPool cuDeviceGetDefaultMemPool = nullptr;
  PFN_cuMemPoolSetAttribute cuMemPoolSetAttribute = nullptr;
};

Driver gDriver;
std::mutex gDriverMutex;
std::atomic<bool> gDriverReady{false};
int gDriverStatus = 0;          // result of the first load attempt
std::string gDriverLoadMessage; // its message when it failed

// The context retained by tuckerCudaInit (one per device, indexed by ordinal).
std::vector<CUcontext> gContexts;
CUcontext gLastContext = nullptr;

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

thread_local std::string tlsMessage;
thread_local int tlsCode = 0;

int setError(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int setError(int code, const char *fmt, ...) {
  char buffer[2048];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buffer, sizeof(buffer), fmt, args);
  va_end(args);
  tlsMessage = buffer;
  tlsCode = code;
  return code;
}

// Describes a CUresult as "CUDA_ERROR_X (description)".
std::string describe(CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (gDriver.cuGetErrorName)
    gDriver.cuGetErrorName(result, &name);
  if (gDriver.cuGetErrorString)
    gDriver.cuGetErrorString(result, &text);
  std::string out = name ? name : ("CUresult " + std::to_string(result));
  if (text)
    out += std::string(" (") + text + ")";
  return out;
}

// Checks a driver result; on failure records "call failed: NAME (text)
// [context]" and returns the CUresult.
int check(CUresult result, const char *call, const std::string &context = "") {
  if (result == CUDA_SUCCESS)
    return 0;
  std::string message = std::string(call) + " failed: " + describe(result);
  if (!context.empty())
    message += " [" + context + "]";
  return setError(result, "%s", message.c_str());
}

template <typename T>
bool loadSymbol(void *handle, T &slot, const char *name,
                std::string &missing) {
  slot = reinterpret_cast<T>(dlsym(handle, name));
  if (!slot) {
    if (!missing.empty())
      missing += ", ";
    missing += name;
  }
  return slot != nullptr;
}

int loadDriverLocked(const char *libraryPath) {
  if (gDriverReady)
    return 0;
  if (gDriverStatus != 0)
    return setError(gDriverStatus, "%s", gDriverLoadMessage.c_str());

  std::vector<std::string> candidates;
  if (const char *env = std::getenv("TUCKER_CUDA_DRIVER"); env && *env)
    candidates.push_back(env);
  else if (libraryPath && *libraryPath)
    candidates.push_back(libraryPath);
  else {
    candidates.push_back("libcuda.so.1");
    candidates.push_back("libcuda.so");
  }

  std::string attempts;
  void *handle = nullptr;
  for (const std::string &name : candidates) {
    handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      gDriver.loadedFrom = name;
      break;
    }
    const char *why = dlerror(); // names the library already
    if (!attempts.empty())
      attempts += "; ";
    attempts += why ? std::string(why) : name + ": unknown dlopen error";
  }
  if (!handle) {
    gDriverStatus = TUCKER_CUDA_ERROR_DRIVER_NOT_FOUND;
    gDriverLoadMessage =
        "cannot load the CUDA driver library (" + attempts +
        "); is an NVIDIA driver installed? (set TUCKER_CUDA_DRIVER to its path "
        "if it is elsewhere)";
    return setError(gDriverStatus, "%s", gDriverLoadMessage.c_str());
  }

  Driver &d = gDriver;
  d.handle = handle;
  std::string missing;
  loadSymbol(handle, d.cuGetErrorName, "cuGetErrorName", missing);
  loadSymbol(handle, d.cuGetErrorString, "cuGetErrorString", missing);
  loadSymbol(handle, d.cuInit, "cuInit", missing);
  loadSymbol(handle, d.cuDriverGetVersion, "cuDriverGetVersion", missing);
  loadSymbol(handle, d.cuDeviceGetCount, "cuDeviceGetCount", missing);
  loadSymbol(handle, d.cuDeviceGet, "cuDeviceGet", missing);
  loadSymbol(handle, d.cuDeviceGetAttribute, "cuDeviceGetAttribute", missing);
  loadSymbol(handle, d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",
             missing);
  loadSymbol(handle, d.cuDevicePrimaryCtxRelease,
             "cuDevicePrimaryCtxRelease_v2", missing);
  loadSymbol(handle, d.cuCtxSetCurrent, "cuCtxSetCurrent", missing);
  loadSymbol(handle, d.cuCtxGetCurrent, "cuCtxGetCurrent", missing);
  loadSymbol(handle, d.cuCtxSynchronize, "cuCtxSynchronize", missing);
  loadSymbol(handle, d.cuModuleLoadDataEx, "cuModuleLoadDataEx", missing);
  loadSymbol(handle, d.cuModuleUnload, "cuModuleUnload", missing);
  loadSymbol(handle, d.cuModuleGetFunction, "cuModuleGetFunction", missing);
  loadSymbol(handle, d.cuFuncGetAttribute, "cuFuncGetAttribute", missing);
  loadSymbol(handle, d.cuFuncSetAttribute, "cuFuncSetAttribute", missing);
  loadSymbol(handle, d.cuLaunchKernel, "cuLaunchKernel", missing);
  loadSymbol(handle, d.cuMemAlloc, "cuMemAlloc_v2", missing);
  loadSymbol(handle, d.cuMemFree, "cuMemFree_v2", missing);
  loadSymbol(handle, d.cuMemcpyHtoD, "cuMemcpyHtoD_v2", missing);
  loadSymbol(handle, d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", missing);
  loadSymbol(handle, d.cuMemcpyDtoH, "cuMemcpyDtoH_v2", missing);
  loadSymbol(handle, d.cuStreamSynchronize, "cuStreamSynchronize", missing);
  loadSymbol(handle, d.cuMemsetD8Async, "cuMemsetD8Async", missing);
  loadSymbol(handle, d.cuMemsetD16Async, "cuMemsetD16Async", missing);
  loadSymbol(handle, d.cuMemsetD32Async, "cuMemsetD32Async", missing);
  loadSymbol(handle, d.cuStreamCreate, "cuStreamCreate", missing);
  loadSymbol(handle, d.cuThreadExchangeStreamCaptureMode,
             "cuThreadExchangeStreamCaptureMode", missing);
  // cuTensorMapEncodeTiled exists from CUDA 12.0 on; without it everything
  // else still works, and tuckerCudaEncodeTiledTensorMap reports it.
  d.cuTensorMapEncodeTiled = reinterpret_cast<PFN_cuTensorMapEncodeTiled>(
      dlsym(handle, "cuTensorMapEncodeTiled"));
  // Likewise the stream-ordered allocator (tuckerCudaMallocAsync falls back
  // on cuMemAlloc without it).
  d.cuMemAllocAsync = reinterpret_cast<PFN_cuMemAllocAsync>(
      dlsym(handle, "cuMemAllocAsync"));
  d.cuMemFreeAsync =
      reinterpret_cast<PFN_cuMemFreeAsync>(dlsym(handle, "cuMemFreeAsync"));
  // Without it (before CUDA 12.0) dependent launches are plain launches.
  d.cuLaunchKernelEx = reinterpret_cast<PFN_cuLaunchKernelEx>(
      dlsym(handle, "cuLaunchKernelEx"));
  d.cuCtxGetDevice =
      reinterpret_cast<PFN_cuCtxGetDevice>(dlsym(handle, "cuCtxGetDevice"));
  d.cuDeviceGetDefaultMemPool = reinterpret_cast<PFN_cuDeviceGetDefaultMemPool>(
      dlsym(handle, "cuDeviceGetDefaultMemPool"));
  d.cuMemPoolSetAttribute = reinterpret_cast<PFN_cuMemPoolSetAttribute>(
      dlsym(handle, "cuMemPoolSetAttribute"));
  if (!missing.empty()) {
    gDriverStatus = TUCKER_CUDA_ERROR_SYMBOL_NOT_FOUND;
    gDriverLoadMessage = "the CUDA driver library " + d.loadedFrom +
                         " lacks entry points: " + missing +
                         " (driver too old?)";
    d = Driver();
    dlclose(handle);
    return setError(gDriverStatus, "%s", gDriverLoadMessage.c_str());
  }

  CUresult result = d.cuInit(0);
  if (result != CUDA_SUCCESS) {
    gDriverStatus = result;
    gDriverLoadMessage = "cuInit failed: " + describe(result) + " [driver " +
                         d.loadedFrom + "; no usable GPU?]";
    return setError(gDriverStatus, "%s", gDriverLoadMessage.c_str());
  }
  gDriverReady = true;
  return 0;
}

int ensureDriver() {
  if (gDriverReady)
    return 0;
  std::lock_guard<std::mutex> lock(gDriverMutex);
  return loadDriverLocked(nullptr);
}

// Makes sure a context is current on this thread (PyTorch's threads usually
// have one already); falls back on the one retained by tuckerCudaInit.
int ensureContext(const char *what) {
  CUcontext current = nullptr;
  if (int rc = check(gDriver.cuCtxGetCurrent(&current), "cuCtxGetCurrent", what))
    return rc;
  if (current)
    return 0;
  if (!gLastContext)
    return setError(TUCKER_CUDA_ERROR_NOT_INITIALIZED,
                    "no CUDA context is current on this thread [%s]; call "
                    "tuckerCudaInit(device) first",
                    what);
  return check(gDriver.cuCtxSetCurrent(gLastContext), "cuCtxSetCurrent", what);
}

#define TUCKER_REQUIRE_DRIVER()                                                \
  do {                                                                         \
    if (int rc_ = ensureDriver())                                              \
      return rc_;                                                              \
  } while (0)

#define TUCKER_REQUIRE_ARG(cond, ...)                                          \
  do {                                                                         \
    if (!(cond))                                                               \
      return setError(TUCKER_CUDA_ERROR_INVALID_ARGUMENT, __VA_ARGS__);        \
  } while (0)

bool looksLikePtx(const void *image, size_t size) {
  const unsigned char *p = static_cast<const unsigned char *>(image);
  // ELF cubins start with 0x7f 'E' 'L' 'F'; fatbins with 0x50ed55ba (LE).
  if (size >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F')
    return false;
  if (size >= 4 && p[0] == 0x50 && p[1] == 0xed && p[2] == 0x55 && p[3] == 0xba)
    return false;
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

extern "C" {

const char *tuckerCudaGetLastError(void) { return tlsMessage.c_str(); }

int tuckerCudaGetLastErrorCode(void) { return tlsCode; }

void tuckerCudaClearError(void) {
  tlsMessage.clear();
  tlsCode = 0;
}

int tuckerCudaLoadDriver(const char *libraryPath) {
  std::lock_guard<std::mutex> lock(gDriverMutex);
  return loadDriverLocked(libraryPath);
}

int tuckerCudaDriverVersion(int *version) {
  TUCKER_REQUIRE_ARG(version, "tuckerCudaDriverVersion: version is NULL");
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuDriverGetVersion(version), "cuDriverGetVersion");
}

int tuckerCudaDeviceCount(int *count) {
  TUCKER_REQUIRE_ARG(count, "tuckerCudaDeviceCount: count is NULL");
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
}

int tuckerCudaInit(int device, TuckerCudaContext *context) {
  TUCKER_REQUIRE_DRIVER();
  std::string what = "device " + std::to_string(device);
  int count = 0;
  if (int rc = check(gDriver.cuDeviceGetCount(&count), "cuDeviceGetCount",
                     what))
    return rc;
  TUCKER_REQUIRE_ARG(device >= 0 && device < count,
                     "tuckerCudaInit: device %d does not exist (%d device%s)",
                     device, count, count == 1 ? "" : "s");
  CUdevice dev = 0;
  if (int rc = check(gDriver.cuDeviceGet(&dev, device), "cuDeviceGet", what))
    return rc;
  std::lock_guard<std::mutex> lock(gDriverMutex);
  if (gContexts.size() <= static_cast<size_t>(device))
    gContexts.resize(device + 1, nullptr);
  if (!gContexts[device]) {
    CUcontext ctx = nullptr;
    if (int rc = check(gDriver.cuDevicePrimaryCtxRetain(&ctx, dev),
                       "cuDevicePrimaryCtxRetain", what))
      return rc;
    gContexts[device] = ctx;
  }
  if (int rc = check(gDriver.cuCtxSetCurrent(gContexts[device]),
                     "cuCtxSetCurrent", what))
    return rc;
  gLastContext = gContexts[device];
  if (context)
    *context = reinterpret_cast<TuckerCudaContext>(gContexts[device]);
  return 0;
}

int tuckerCudaSetContext(TuckerCudaContext context) {
  TUCKER_REQUIRE_DRIVER();
  TUCKER_REQUIRE_ARG(context, "tuckerCudaSetContext: context is NULL");
  return check(gDriver.cuCtxSetCurrent(reinterpret_cast<CUcontext>(context)),
               "cuCtxSetCurrent");
}

int tuckerCudaRelease(int device) {
  TUCKER_REQUIRE_DRIVER();
  std::lock_guard<std::mutex> lock(gDriverMutex);
  TUCKER_REQUIRE_ARG(device >= 0 &&
                         static_cast<size_t>(device) < gContexts.size() &&
                         gContexts[device],
                     "tuckerCudaRelease: device %d has no retained context",
                     device);
  CUdevice dev = 0;
  std::string what = "device " + std::to_string(device);
  if (int rc = check(gDriver.cuDeviceGet(&dev, device), "cuDeviceGet", what))
    return rc;
  if (gLastContext == gContexts[device])
    gLastContext = nullptr;
  gContexts[device] = nullptr;
  return check(gDriver.cuDevicePrimaryCtxRelease(dev),
               "cuDevicePrimaryCtxRelease", what);
}

int tuckerCudaDeviceAttribute(int device, int attribute, int *value) {
  TUCKER_REQUIRE_ARG(value, "tuckerCudaDeviceAttribute: value is NULL");
  TUCKER_REQUIRE_DRIVER();
  CUdevice dev = 0;
  std::string what = "device " + std::to_string(device) + ", attribute " +
                     std::to_string(attribute);
  if (int rc = check(gDriver.cuDeviceGet(&dev, device), "cuDeviceGet", what))
    return rc;
  return check(gDriver.cuDeviceGetAttribute(value, attribute, dev),
               "cuDeviceGetAttribute", what);
}

int tuckerCudaComputeCapability(int device, int *major, int *minor) {
  TUCKER_REQUIRE_ARG(major && minor,
                     "tuckerCudaComputeCapability: NULL output");
  if (int rc = tuckerCudaDeviceAttribute(
          device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, major))
    return rc;
  return tuckerCudaDeviceAttribute(
      device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, minor);
}

int tuckerCudaModuleLoadData(const void *image, size_t size,
                             TuckerCudaModule *module) {
  TUCKER_REQUIRE_ARG(image && module,
                     "tuckerCudaModuleLoadData: NULL image or module");
  TUCKER_REQUIRE_DRIVER();
  if (int rc = ensureContext("loading a module"))
    return rc;
  bool ptx = looksLikePtx(image, size);
  std::string ptxCopy;
  if (ptx && size) {
    // The driver wants NUL-terminated PTX; copy if the caller's isn't.
    const char *text = static_cast<const char *>(image);
    if (text[size - 1] != '\0') {
      ptxCopy.assign(text, size);
      image = ptxCopy.c_str();
    }
  }
  std::vector<char> errorLog(16384, '\0'), infoLog(4096, '\0');
  CUjit_option options[4] = {
      CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
      CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
  void *values[4] = {
      errorLog.data(),
      reinterpret_cast<void *>(static_cast<uintptr_t>(errorLog.size())),
      infoLog.data(),
      reinterpret_cast<void *>(static_cast<uintptr_t>(infoLog.size()))};
  CUmodule mod = nullptr;
  CUresult result =
      gDriver.cuModuleLoadDataEx(&mod, image, 4, options, values);
  if (result != CUDA_SUCCESS) {
    std::string what = std::string(ptx ? "PTX" : "cubin/fatbin") + " image of " +
                       std::to_string(size) + " bytes";
    errorLog.back() = '\0';
    if (errorLog[0])
      what += "; JIT log: " + std::string(errorLog.data());
    return check(result, "cuModuleLoadDataEx", what);
  }
  *module = reinterpret_cast<TuckerCudaModule>(mod);
  return 0;
}

int tuckerCudaModuleUnload(TuckerCudaModule module) {
  TUCKER_REQUIRE_ARG(module, "tuckerCudaModuleUnload: module is NULL");
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuModuleUnload(reinterpret_cast<CUmodule>(module)),
               "cuModuleUnload");
}

int tuckerCudaModuleGetFunction(TuckerCudaModule module, const char *name,
                                TuckerCudaFunction *function) {
  TUCKER_REQUIRE_ARG(module && name && function,
                     "tuckerCudaModuleGetFunction: NULL argument");
  TUCKER_REQUIRE_DRIVER();
  CUfunction fn = nullptr;
  if (int rc = check(gDriver.cuModuleGetFunction(
                         &fn, reinterpret_cast<CUmodule>(module), name),
                     "cuModuleGetFunction",
                     std::string("kernel '") + name + "'"))
    return rc;
  *function = reinterpret_cast<TuckerCudaFunction>(fn);
  return 0;
}

int tuckerCudaFunctionAttribute(TuckerCudaFunction function, int attribute,
                                int *value) {
  TUCKER_REQUIRE_ARG(function && value,
                     "tuckerCudaFunctionAttribute: NULL argument");
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuFuncGetAttribute(
                   value, attribute, reinterpret_cast<CUfunction>(function)),
               "cuFuncGetAttribute",
               "attribute " + std::to_string(attribute));
}

namespace {
int launch(TuckerCudaFunction function, unsigned gridX, unsigned gridY,
           unsigned gridZ, unsigned blockX, unsigned blockY, unsigned blockZ,
           unsigned dynamicSharedBytes, TuckerCudaStream stream, void **args,
           bool dependent) {
  TUCKER_REQUIRE_ARG(function, "tuckerCudaLaunch: function is NULL");
  TUCKER_REQUIRE_DRIVER();
  char what[256];
  snprintf(what, sizeof(what),
           "grid (%u, %u, %u), block (%u, %u, %u), %u bytes of dynamic "
           "shared memory",
           gridX, gridY, gridZ, blockX, blockY, blockZ, dynamicSharedBytes);
  if (int rc = ensureContext(what))
    return rc;
  CUfunction fn = reinterpret_cast<CUfunction>(function);
  if (dynamicSharedBytes > 0) {
    int current = 0;
    if (int rc = check(gDriver.cuFuncGetAttribute(
                           &current,
                           CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, fn),
                       "cuFuncGetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
                       what))
      return rc;
    if (static_cast<unsigned>(current) < dynamicSharedBytes) {
      if (int rc = check(gDriver.cuFuncSetAttribute(
                             fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                             static_cast<int>(dynamicSharedBytes)),
                         "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
                         what))
        return rc;
    }
  }
  if (dependent && gDriver.cuLaunchKernelEx) {
    LaunchAttribute attribute{};
    attribute.id = kLaunchAttributeProgrammaticStreamSerialization;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    LaunchConfig config{gridX,
                        gridY,
                        gridZ,
                        blockX,
                        blockY,
                        blockZ,
                        dynamicSharedBytes,
                        reinterpret_cast<CUstream>(stream),
                        &attribute,
                        1};
    return check(gDriver.cuLaunchKernelEx(&config, fn, args, nullptr),
                 "cuLaunchKernelEx(PROGRAMMATIC_STREAM_SERIALIZATION)", what);
  }
  return check(gDriver.cuLaunchKernel(fn, gridX, gridY, gridZ, blockX, blockY,
                                      blockZ, dynamicSharedBytes,
                                      reinterpret_cast<CUstream>(stream), args,
                                      nullptr),
               "cuLaunchKernel", what);
}
} // namespace

int tuckerCudaLaunch(TuckerCudaFunction function, unsigned gridX,
                     unsigned gridY, unsigned gridZ, unsigned blockX,
                     unsigned blockY, unsigned blockZ,
                     unsigned dynamicSharedBytes, TuckerCudaStream stream,
                     void **args) {
  return launch(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                dynamicSharedBytes, stream, args, /*dependent=*/false);
}

int tuckerCudaLaunchDependent(TuckerCudaFunction function, unsigned gridX,
                              unsigned gridY, unsigned gridZ, unsigned blockX,
                              unsigned blockY, unsigned blockZ,
                              unsigned dynamicSharedBytes,
                              TuckerCudaStream stream, void **args) {
  return launch(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                dynamicSharedBytes, stream, args, /*dependent=*/true);
}

int tuckerCudaMalloc(uint64_t *devicePtr, size_t bytes) {
  TUCKER_REQUIRE_ARG(devicePtr, "tuckerCudaMalloc: devicePtr is NULL");
  TUCKER_REQUIRE_DRIVER();
  std::string what = std::to_string(bytes) + " bytes";
  if (int rc = ensureContext(what.c_str()))
    return rc;
  CUdeviceptr ptr = 0;
  if (int rc = check(gDriver.cuMemAlloc(&ptr, bytes), "cuMemAlloc", what))
    return rc;
  *devicePtr = ptr;
  return 0;
}

int tuckerCudaFree(uint64_t devicePtr) {
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuMemFree(devicePtr), "cuMemFree");
}

/// Whether the driver has the stream-ordered allocator this runtime uses;
/// allocation and free must agree on it (a cuMemAlloc pointer is freed by
/// cuMemFree).
static bool hasStreamOrderedAllocator(const Driver &d) {
  return d.cuMemAllocAsync && d.cuMemFreeAsync && d.cuCtxGetDevice &&
         d.cuDeviceGetDefaultMemPool && d.cuMemPoolSetAttribute;
}

int tuckerCudaMallocAsync(uint64_t *devicePtr, size_t bytes,
                          TuckerCudaStream stream) {
  TUCKER_REQUIRE_ARG(devicePtr, "tuckerCudaMallocAsync: devicePtr is NULL");
  TUCKER_REQUIRE_DRIVER();
  Driver &d = gDriver;
  if (!hasStreamOrderedAllocator(d))
    return tuckerCudaMalloc(devicePtr, bytes);
  std::string what = std::to_string(bytes) + " bytes, stream-ordered";
  if (int rc = ensureContext(what.c_str()))
    return rc;
  // Once per process: the default pool of the current device keeps what is
  // freed (its release threshold is 0 by default, which hands memory back
  // to the OS at every synchronization).
  static std::once_flag keep;
  static int keepStatus = 0;
  std::call_once(keep, [&] {
    CUdevice device = 0;
    CUmemoryPool pool = nullptr;
    unsigned long long threshold = ~0ull;
    keepStatus = check(d.cuCtxGetDevice(&device), "cuCtxGetDevice", what);
    if (!keepStatus)
      keepStatus = check(d.cuDeviceGetDefaultMemPool(&pool, device),
                         "cuDeviceGetDefaultMemPool", what);
    if (!keepStatus)
      keepStatus = check(d.cuMemPoolSetAttribute(
                             pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                             &threshold),
                         "cuMemPoolSetAttribute", what);
  });
  if (keepStatus)
    return keepStatus;
  CUdeviceptr ptr = 0;
  if (int rc = check(d.cuMemAllocAsync(&ptr, bytes, stream), "cuMemAllocAsync",
                     what))
    return rc;
  *devicePtr = ptr;
  return 0;
}

int tuckerCudaFreeAsync(uint64_t devicePtr, TuckerCudaStream stream) {
  TUCKER_REQUIRE_DRIVER();
  if (!hasStreamOrderedAllocator(gDriver))
    return tuckerCudaFree(devicePtr);
  return check(gDriver.cuMemFreeAsync(devicePtr, stream), "cuMemFreeAsync");
}

int tuckerCudaMemcpyHtoD(uint64_t dst, const void *src, size_t bytes) {
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD",
               std::to_string(bytes) + " bytes");
}

int tuckerCudaMemcpyHtoDAsync(uint64_t dst, const void *src, size_t bytes,
                              TuckerCudaStream stream) {
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuMemcpyHtoDAsync(dst, src, bytes,
                                         reinterpret_cast<CUstream>(stream)),
               "cuMemcpyHtoDAsync", std::to_string(bytes) + " bytes");
}

/// cuMemAlloc of `bytes`, filled by `fill` (enqueued on a private stream)
/// and complete on return. A stream of this thread may be capturing a graph
/// (torch's capture streams are non-blocking): in the relaxed capture mode
/// this thread may allocate, and the private non-blocking stream fills
/// without joining the capture; waiting on that stream alone makes the fill
/// complete for every later launch.
static int
allocateFilled(uint64_t *devicePtr, size_t bytes,
               const std::function<CUresult(CUdeviceptr, CUstream)> &fill) {
  Driver &d = gDriver;
  std::string what = std::to_string(bytes) + " bytes";
  if (int rc = ensureContext(what.c_str()))
    return rc;
  static std::once_flag once;
  static CUstream fills = nullptr;
  static int streamStatus = 0;
  std::call_once(once, [&] {
    streamStatus = check(d.cuStreamCreate(&fills, CU_STREAM_NON_BLOCKING),
                         "cuStreamCreate", "fill stream");
  });
  if (streamStatus)
    return streamStatus;
  int mode = CU_STREAM_CAPTURE_MODE_RELAXED;
  if (int rc = check(d.cuThreadExchangeStreamCaptureMode(&mode),
                     "cuThreadExchangeStreamCaptureMode", what))
    return rc;
  CUdeviceptr ptr = 0;
  int rc = check(d.cuMemAlloc(&ptr, bytes), "cuMemAlloc", what);
  if (!rc)
    rc = check(fill(ptr, fills), "filling", what);
  if (!rc)
    rc = check(d.cuStreamSynchronize(fills), "cuStreamSynchronize", what);
  int restore = check(d.cuThreadExchangeStreamCaptureMode(&mode),
                      "cuThreadExchangeStreamCaptureMode", what);
  if (rc && ptr)
    d.cuMemFree(ptr);
  if (rc || restore)
    return rc ? rc : restore;
  *devicePtr = ptr;
  return 0;
}

int tuckerCudaUpload(uint64_t *devicePtr, const void *src, size_t bytes) {
  TUCKER_REQUIRE_ARG(devicePtr && src, "tuckerCudaUpload: NULL pointer");
  TUCKER_REQUIRE_DRIVER();
  return allocateFilled(devicePtr, bytes, [&](CUdeviceptr dst, CUstream s) {
    return gDriver.cuMemcpyHtoDAsync(dst, src, bytes, s);
  });
}

int tuckerCudaAllocZeroed(uint64_t *devicePtr, size_t bytes) {
  TUCKER_REQUIRE_ARG(devicePtr, "tuckerCudaAllocZeroed: devicePtr is NULL");
  TUCKER_REQUIRE_DRIVER();
  return allocateFilled(devicePtr, bytes, [&](CUdeviceptr dst, CUstream s) {
    return gDriver.cuMemsetD8Async(dst, 0, bytes, s);
  });
}

int tuckerCudaMemsetAsync(uint64_t dst, unsigned value, int bytesPerElement,
                          size_t count, TuckerCudaStream stream) {
  TUCKER_REQUIRE_DRIVER();
  TUCKER_REQUIRE_ARG(bytesPerElement == 2 || bytesPerElement == 4,
                     "tuckerCudaMemsetAsync: elements of 2 or 4 bytes, not %d",
                     bytesPerElement);
  auto s = reinterpret_cast<CUstream>(stream);
  std::string what = std::to_string(count) + " elements";
  if (bytesPerElement == 2)
    return check(gDriver.cuMemsetD16Async(
                     dst, static_cast<unsigned short>(value), count, s),
                 "cuMemsetD16Async", what);
  return check(gDriver.cuMemsetD32Async(dst, value, count, s),
               "cuMemsetD32Async", what);
}

int tuckerCudaMemcpyDtoH(void *dst, uint64_t src, size_t bytes) {
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH",
               std::to_string(bytes) + " bytes");
}

int tuckerCudaStreamSynchronize(TuckerCudaStream stream) {
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuStreamSynchronize(reinterpret_cast<CUstream>(stream)),
               "cuStreamSynchronize");
}

int tuckerCudaContextSynchronize(void) {
  TUCKER_REQUIRE_DRIVER();
  return check(gDriver.cuCtxSynchronize(), "cuCtxSynchronize");
}

int tuckerCudaEncodeTiledTensorMap(void *tensorMap, int dataType,
                                   unsigned rank, uint64_t globalAddress,
                                   const uint64_t *globalDims,
                                   const uint64_t *globalStridesBytes,
                                   const uint32_t *boxDims,
                                   const uint32_t *elementStrides,
                                   int interleave, int swizzle,
                                   int l2Promotion, int oobFill) {
  const char *fn = "tuckerCudaEncodeTiledTensorMap";
  TUCKER_REQUIRE_ARG(tensorMap, "%s: tensorMap is NULL", fn);
  TUCKER_REQUIRE_ARG(reinterpret_cast<uintptr_t>(tensorMap) %
                             TUCKER_TENSOR_MAP_ALIGN ==
                         0,
                     "%s: tensorMap must be %d-byte aligned", fn,
                     TUCKER_TENSOR_MAP_ALIGN);
  TUCKER_REQUIRE_ARG(rank >= 1 && rank <= 5, "%s: rank %u is not in 1..5", fn,
                     rank);
  TUCKER_REQUIRE_ARG(globalDims && boxDims && (rank == 1 || globalStridesBytes),
                     "%s: NULL dims, strides or box", fn);
  TUCKER_REQUIRE_ARG(dataType >= 0 && dataType <= 12,
                     "%s: unknown data type %d", fn, dataType);
  TUCKER_REQUIRE_ARG(swizzle >= 0 && swizzle <= 3, "%s: unknown swizzle %d",
                     fn, swizzle);
  TUCKER_REQUIRE_ARG(globalAddress % 16 == 0,
                     "%s: global address 0x%llx is not 16-byte aligned", fn,
                     static_cast<unsigned long long>(globalAddress));
  static const int elementBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  int elemSize = elementBytes[dataType];
  for (unsigned i = 0; i < rank; ++i) {
    TUCKER_REQUIRE_ARG(globalDims[i] >= 1 && globalDims[i] <= (1ull << 32),
                       "%s: globalDims[%u] = %llu is not in 1..2^32", fn, i,
                       static_cast<unsigned long long>(globalDims[i]));
    TUCKER_REQUIRE_ARG(boxDims[i] >= 1 && boxDims[i] <= 256,
                       "%s: boxDims[%u] = %u is not in 1..256", fn, i,
                       boxDims[i]);
    if (elementStrides)
      TUCKER_REQUIRE_ARG(elementStrides[i] >= 1 && elementStrides[i] <= 8,
                         "%s: elementStrides[%u] = %u is not in 1..8", fn, i,
                         elementStrides[i]);
  }
  for (unsigned i = 0; i + 1 < rank; ++i)
    TUCKER_REQUIRE_ARG(globalStridesBytes[i] % 16 == 0 &&
                           globalStridesBytes[i] < (1ull << 40),
                       "%s: globalStridesBytes[%u] = %llu must be a multiple "
                       "of 16 below 2^40",
                       fn, i,
                       static_cast<unsigned long long>(globalStridesBytes[i]));
  if (interleave == TUCKER_TMA_INTERLEAVE_NONE) {
    TUCKER_REQUIRE_ARG((boxDims[0] * elemSize) % 16 == 0,
                       "%s: the inner box extent (%u elements of %d bytes) "
                       "must be a multiple of 16 bytes",
                       fn, boxDims[0], elemSize);
    static const int span[] = {0, 32, 64, 128};
    if (swizzle != TUCKER_TMA_SWIZZLE_NONE)
      TUCKER_REQUIRE_ARG(static_cast<int>(boxDims[0]) * elemSize <=
                             span[swizzle],
                         "%s: the inner box extent (%u elements of %d bytes) "
                         "exceeds the %d-byte swizzle span",
                         fn, boxDims[0], elemSize, span[swizzle]);
  }
  TUCKER_REQUIRE_DRIVER();
  if (!gDriver.cuTensorMapEncodeTiled)
    return setError(TUCKER_CUDA_ERROR_SYMBOL_NOT_FOUND,
                    "%s: the CUDA driver has no cuTensorMapEncodeTiled "
                    "(CUDA 12.0 or newer is needed)",
                    fn);

  unsigned long long dims[5], strides[5];
  unsigned box[5], estrides[5];
  for (unsigned i = 0; i < rank; ++i) {
    dims[i] = globalDims[i];
    box[i] = boxDims[i];
    estrides[i] = elementStrides ? elementStrides[i] : 1;
    if (i + 1 < rank)
      strides[i] = globalStridesBytes[i];
  }
  char what[512];
  int n = snprintf(what, sizeof(what),
                   "rank %u, dtype %d, swizzle %d, address 0x%llx, dims [", rank,
                   dataType, swizzle,
                   static_cast<unsigned long long>(globalAddress));
  for (unsigned i = 0; i < rank && n < (int)sizeof(what); ++i)
    n += snprintf(what + n, sizeof(what) - n, "%s%llu", i ? ", " : "", dims[i]);
  if (n < (int)sizeof(what))
    n += snprintf(what + n, sizeof(what) - n, "], box [");
  for (unsigned i = 0; i < rank && n < (int)sizeof(what); ++i)
    n += snprintf(what + n, sizeof(what) - n, "%s%u", i ? ", " : "", box[i]);
  if (n < (int)sizeof(what))
    snprintf(what + n, sizeof(what) - n, "]");
  return check(gDriver.cuTensorMapEncodeTiled(
                   static_cast<CUtensorMap *>(tensorMap), dataType, rank,
                   reinterpret_cast<void *>(globalAddress), dims, strides, box,
                   estrides, interleave, swizzle, l2Promotion, oobFill),
               "cuTensorMapEncodeTiled", what);
}

} // extern "C"

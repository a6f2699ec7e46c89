//===- MgpuShim.cpp - MLIR's mgpu* runtime calls over tucker's runtime ----===//
//
// The C functions that the host code of --tucker-gpu-pipeline calls (what
// gpu-to-llvm and the gpu.binary's LLVM translation emit; list them with
// `nm -u` on a compiled module), implemented over tuckerCuda* (the CUDA
// driver, dlopen'd at run time), so compiled modules need no CUDA toolkit
// library. Built into libTuckerCudaRuntime.
//
// Semantics:
//  - Context: the primary context of device 0 (or the one set with
//    mgpuSetDefaultDevice before the first call), retained on first use.
//  - Streams: tucker's runtime creates none. Between tuckerStreamBegin(s)
//    and tuckerStreamEnd() on a thread (the C entry of a `tucker-compile
//    --target=cuda` library brackets its body so, with the caller's stream),
//    mgpuStreamCreate returns s and mgpuStreamSynchronize of s is a no-op:
//    the work is enqueued on the caller's stream in order and the call
//    returns without waiting. Outside such a bracket, mgpuStreamCreate
//    returns NULL, the legacy default stream, and mgpuStreamSynchronize
//    waits for it (synchronous calls, as mlir-runner expects).
//    mgpuStreamDestroy is always a no-op.
//  - Tensor maps: mgpuTensorMapEncodeTiledMemref encodes the CUtensorMap and
//    copies it to device memory; the device copies are cached by the
//    encoded 128 bytes, so calling again with the same buffer and shape
//    reuses one (no 128 B leak per call). The cache lives until process exit
//    (one entry per distinct (address, shape, box) seen).
//  - Constants (weights, tables): each read goes through
//    tuckerDeviceConstant, which uploads the host global once and keeps the
//    copy for the life of the process.
//  - Both uploads go through tuckerCudaUpload, which is legal while a stream
//    is capturing a CUDA graph: a call captured with buffers or shapes not
//    seen before (dynamic shapes, a graph's own static buffers) still works.
//  - Launches: a launch that the host code announces with
//    tuckerLaunchDependentNext() (a flash whose schedule has
//    dependent_launch: the decode kernels, which wait for the previous grid
//    themselves) goes through tuckerCudaLaunchDependent (programmatic
//    stream serialization).
//  - Device allocations (buffers of dynamic size; the static ones live in
//    the entry's workspace): stream-ordered on the given stream (none given:
//    the caller's, inside its bracket), from the
//    device's default memory pool (cuMemAllocAsync / cuMemFreeAsync), so they
//    neither wait nor, once the pool holds enough, allocate.
//  - Errors: every failure prints "tucker mgpu: <call>: <message>" on stderr
//    and aborts (the mgpu* signatures have no error return, and a silent
//    wrong answer is worse than a crash).
//
//===----------------------------------------------------------------------===//

#include "tucker/Runtime/CudaRuntime.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const char *call, const char *message) {
  std::fprintf(stderr, "tucker mgpu: %s: %s\n", call, message);
  std::fflush(stderr);
  std::abort();
}

void check(int status, const char *call) {
  if (status != 0)
    fail(call, tuckerCudaGetLastError());
}

int defaultDevice = 0;

/// Retains the primary context once, and makes it current on this thread.
void ensureContext(const char *call) {
  static std::once_flag once;
  static int status = 0;
  static TuckerCudaContext context = nullptr;
  static std::string error;
  std::call_once(once, [] {
    status = tuckerCudaInit(defaultDevice, &context);
    if (status != 0)
      error = tuckerCudaGetLastError();
  });
  if (status != 0)
    fail(call, error.c_str());
  check(tuckerCudaSetContext(context), call);
}

/// Element sizes of the CUtensorMapDataType values 0..12.
constexpr int kElementBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};

/// A ranked memref descriptor (the layout MLIR passes for any rank).
struct Descriptor {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[];
};

} // namespace

#define MGPU_EXPORT extern "C" TUCKER_CUDA_EXPORT

MGPU_EXPORT void mgpuSetDefaultDevice(int32_t device) { defaultDevice = device; }

MGPU_EXPORT void *mgpuModuleLoad(void *data, size_t size) {
  ensureContext("mgpuModuleLoad");
  TuckerCudaModule module = nullptr;
  check(tuckerCudaModuleLoadData(data, size, &module), "mgpuModuleLoad");
  return module;
}

/// PTX text (NUL-terminated). The driver JIT uses its default optimization
/// level; `optLevel` is not passed on.
MGPU_EXPORT void *mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel;
  ensureContext("mgpuModuleLoadJIT");
  TuckerCudaModule module = nullptr;
  check(tuckerCudaModuleLoadData(data, 0, &module), "mgpuModuleLoadJIT");
  return module;
}

MGPU_EXPORT void mgpuModuleUnload(void *module) {
  // The generated destructor runs at process exit, possibly after the driver
  // has shut down (CUDA_ERROR_DEINITIALIZED): the module is gone already.
  constexpr int kDeinitialized = 4;
  int status = tuckerCudaModuleUnload(static_cast<TuckerCudaModule>(module));
  if (status != kDeinitialized)
    check(status, "mgpuModuleUnload");
}

namespace {
/// Set by tuckerLaunchDependentNext, taken by this thread's next launch.
thread_local bool launchDependentNext = false;
} // namespace

MGPU_EXPORT void tuckerLaunchDependentNext() { launchDependentNext = true; }

MGPU_EXPORT void *mgpuModuleGetFunction(void *module, const char *name) {
  TuckerCudaFunction function = nullptr;
  check(tuckerCudaModuleGetFunction(static_cast<TuckerCudaModule>(module), name,
                                    &function),
        "mgpuModuleGetFunction");
  return function;
}

MGPU_EXPORT void mgpuLaunchKernel(void *function, intptr_t gridX,
                                  intptr_t gridY, intptr_t gridZ,
                                  intptr_t blockX, intptr_t blockY,
                                  intptr_t blockZ, int32_t smem, void *stream,
                                  void **params, void **extra,
                                  size_t /*paramsCount*/) {
  if (extra != nullptr)
    fail("mgpuLaunchKernel", "'extra' launch arguments are not supported");
  ensureContext("mgpuLaunchKernel");
  bool dependent = launchDependentNext;
  launchDependentNext = false;
  check((dependent ? tuckerCudaLaunchDependent : tuckerCudaLaunch)(
            static_cast<TuckerCudaFunction>(function),
                         static_cast<unsigned>(gridX),
                         static_cast<unsigned>(gridY),
                         static_cast<unsigned>(gridZ),
                         static_cast<unsigned>(blockX),
                         static_cast<unsigned>(blockY),
                         static_cast<unsigned>(blockZ),
                         static_cast<unsigned>(smem),
                         static_cast<TuckerCudaStream>(stream), params),
        "mgpuLaunchKernel");
}

namespace {
/// Caller streams of the C entries active on this thread, innermost last.
thread_local std::vector<void *> callerStreams;
} // namespace

MGPU_EXPORT void tuckerStreamBegin(void *stream) {
  callerStreams.push_back(stream);
}

MGPU_EXPORT void tuckerStreamEnd() {
  if (callerStreams.empty())
    fail("tuckerStreamEnd", "no tuckerStreamBegin to end");
  callerStreams.pop_back();
}

MGPU_EXPORT void *mgpuStreamCreate() {
  ensureContext("mgpuStreamCreate");
  // The caller's stream, else the legacy default stream.
  return callerStreams.empty() ? nullptr : callerStreams.back();
}

MGPU_EXPORT void mgpuStreamDestroy(void * /*stream*/) {}

MGPU_EXPORT void mgpuStreamSynchronize(void *stream) {
  if (!callerStreams.empty() && stream == callerStreams.back())
    return; // stream-ordered: the caller synchronizes when it needs to
  ensureContext("mgpuStreamSynchronize");
  check(tuckerCudaStreamSynchronize(static_cast<TuckerCudaStream>(stream)),
        "mgpuStreamSynchronize");
}

/// Stream-ordered on `stream` (the caller's inside a C entry): a buffer of
/// dynamic size costs neither a synchronization nor, once the pool holds
/// enough, a driver allocation.
/// The stream of an allocation or free: a synchronous gpu.alloc or
/// gpu.dealloc passes none (the legacy default stream), which inside a
/// caller's bracket is the caller's stream (also what CUDA graph capture
/// requires: no work on the legacy stream while a stream captures).
static void *allocationStream(void *stream) {
  return stream || callerStreams.empty() ? stream : callerStreams.back();
}

MGPU_EXPORT void *mgpuMemAlloc(uint64_t bytes, void *stream,
                               bool isHostShared) {
  stream = allocationStream(stream);
  if (isHostShared)
    fail("mgpuMemAlloc", "host-shared (managed) memory is not supported");
  ensureContext("mgpuMemAlloc");
  uint64_t pointer = 0;
  if (bytes != 0)
    check(tuckerCudaMallocAsync(&pointer, bytes,
                                static_cast<TuckerCudaStream>(stream)),
          "mgpuMemAlloc");
  return reinterpret_cast<void *>(pointer);
}

MGPU_EXPORT void mgpuMemFree(void *pointer, void *stream) {
  if (pointer == nullptr)
    return;
  stream = allocationStream(stream);
  ensureContext("mgpuMemFree");
  check(tuckerCudaFreeAsync(reinterpret_cast<uint64_t>(pointer),
                            static_cast<TuckerCudaStream>(stream)),
        "mgpuMemFree");
}

/// gpu.memset of 32- and 16-bit elements (the caller's stream when none is
/// given, as for allocations).
MGPU_EXPORT void mgpuMemset32(void *dst, unsigned value, size_t count,
                              void *stream) {
  ensureContext("mgpuMemset32");
  check(tuckerCudaMemsetAsync(
            reinterpret_cast<uint64_t>(dst), value, 4, count,
            static_cast<TuckerCudaStream>(allocationStream(stream))),
        "mgpuMemset32");
}

MGPU_EXPORT void mgpuMemset16(void *dst, unsigned short value, size_t count,
                              void *stream) {
  ensureContext("mgpuMemset16");
  check(tuckerCudaMemsetAsync(
            reinterpret_cast<uint64_t>(dst), value, 2, count,
            static_cast<TuckerCudaStream>(allocationStream(stream))),
        "mgpuMemset16");
}

/// nvgpu.tma.create.descriptor's host call: `descriptor` is a ranked memref
/// descriptor of rank `rank` (sizes and strides outermost first),
/// `boxDims` the box outermost first. Returns a device pointer to the
/// CUtensorMap (cached, see the file comment).
MGPU_EXPORT void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *descriptor, int64_t dataType, int64_t interleave,
    int64_t swizzle, int64_t l2Promotion, int64_t oobFill, int64_t *boxDims) {
  const char *call = "mgpuTensorMapEncodeTiledMemref";
  if (rank < 1 || rank > 5)
    fail(call, "tensor rank must be 1..5");
  if (dataType < 0 || dataType > 12)
    fail(call, "unknown tensor map data type");
  ensureContext(call);
  auto *memref = static_cast<Descriptor *>(descriptor);
  const int64_t *sizes = memref->sizesAndStrides;
  const int64_t *strides = memref->sizesAndStrides + rank;
  int64_t elementBytes = kElementBytes[dataType];
  uint64_t address = reinterpret_cast<uint64_t>(memref->aligned) +
                     static_cast<uint64_t>(memref->offset * elementBytes);
  uint64_t globalDims[5];
  uint64_t globalStrides[4];
  uint32_t box[5];
  for (int64_t i = 0; i < rank; ++i) {
    globalDims[i] = static_cast<uint64_t>(sizes[rank - 1 - i]);
    box[i] = static_cast<uint32_t>(boxDims[rank - 1 - i]);
  }
  for (int64_t i = 0; i + 1 < rank; ++i)
    globalStrides[i] =
        static_cast<uint64_t>(strides[rank - 2 - i] * elementBytes);

  alignas(TUCKER_TENSOR_MAP_ALIGN) std::array<uint8_t, TUCKER_TENSOR_MAP_BYTES>
      map{};
  check(tuckerCudaEncodeTiledTensorMap(
            map.data(), static_cast<int>(dataType),
            static_cast<unsigned>(rank), address, globalDims, globalStrides,
            box, /*elementStrides=*/nullptr, static_cast<int>(interleave),
            static_cast<int>(swizzle), static_cast<int>(l2Promotion),
            static_cast<int>(oobFill)),
        call);

  static std::mutex mutex;
  static std::map<std::array<uint8_t, TUCKER_TENSOR_MAP_BYTES>, uint64_t>
      cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(map);
  if (it != cache.end())
    return reinterpret_cast<void *>(it->second);
  uint64_t device = 0;
  check(tuckerCudaUpload(&device, map.data(), TUCKER_TENSOR_MAP_BYTES), call);
  cache.emplace(map, device);
  return reinterpret_cast<void *>(device);
}

/// --tucker-gpu-device-buffers' read of a constant global (C interface of
///   func.func private @tuckerDeviceConstant(i64, i64, i64) -> memref<?xi8>):
/// the device copy of the `bytes` at host address `host`, uploaded on the
/// first call and kept, its device address in the module's zero-initialized
/// int64 at `slot`, for the life of the process. The copy is complete before
/// the first call returns, and may be made under stream capture.
MGPU_EXPORT void _mlir_ciface_tuckerDeviceConstant(Descriptor *result,
                                                   int64_t host, int64_t bytes,
                                                   int64_t slot) {
  const char *call = "tuckerDeviceConstant";
  auto *device = reinterpret_cast<uint64_t *>(slot);
  uint64_t address = __atomic_load_n(device, __ATOMIC_ACQUIRE);
  if (address == 0) {
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    address = __atomic_load_n(device, __ATOMIC_ACQUIRE);
    if (address == 0) {
      ensureContext(call);
      check(tuckerCudaUpload(&address, reinterpret_cast<const void *>(host),
                             static_cast<size_t>(bytes)),
            call);
      __atomic_store_n(device, address, __ATOMIC_RELEASE);
    }
  }
  result->allocated = result->aligned = reinterpret_cast<char *>(address);
  result->offset = 0;
  result->sizesAndStrides[0] = bytes; // size
  result->sizesAndStrides[1] = 1;     // stride
}

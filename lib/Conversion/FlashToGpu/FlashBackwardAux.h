//===- FlashBackwardAux.h - Kernels beside the flash backward ---*- C++ -*-===//
//
// Internal to --tucker-flash-to-gpu. FlashBackwardKernel.h declares the
// three kernels of tucker.flash_backward (prep, main, finish); this header
// adds what the launcher needs besides them.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHBACKWARDAUX_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHBACKWARDAUX_H

#include "FlashKernelSpec.h"

namespace mlir::tucker::flash_to_gpu {

/// Threads per block of the prep, finish and zero kernels.
inline constexpr int64_t kBackwardAuxThreads = 128;
/// Elements of dq per thread of the finish kernel.
inline constexpr int64_t kBackwardFinishPerThread = 4;

/// A kernel that zeroes a buffer (dk and dv when no query row exists, so
/// that the main kernel, which needs a tensor map of q, cannot run):
///   (dst : !llvm.ptr, count : i32)
/// writes zeros to the `count` 16-byte units at `dst`; grid
/// (ceil(count / 128)), block (128).
gpu::GPUFuncOp buildFlashBackwardZeroKernel(OpBuilder &builder, Location loc,
                                            gpu::GPUModuleOp module,
                                            llvm::StringRef name);

} // namespace mlir::tucker::flash_to_gpu

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHBACKWARDAUX_H

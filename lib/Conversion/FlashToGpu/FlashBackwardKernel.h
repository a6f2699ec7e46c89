//===- FlashBackwardKernel.h - Hopper kernels of tucker.flash_backward -*-===//
//
// Internal to --tucker-flash-to-gpu. The backward of a flash runs as three
// kernels on the caller's stream:
//
//  1. prep (buildFlashBackwardPrepKernel): delta[r] = Σ_d O[r, d]·dO[r, d]
//     in f32 for every query row r = (b·Hq + h)·Nq + i, and dqAccum (and
//     with spec.orderedDq the counters) zeroed;
//  2. main (buildFlashBackwardKernel): one CTA per (key tile of
//     kBackwardKeys keys, kv head, batch entry). It keeps dK and dV of its
//     keys in registers while it walks the query tiles (kBackwardQueries
//     rows each) of every query head of its group: P recomputed from the
//     LSE, dP = dO·Vᵀ, dS = P∘(dP − delta); dV += Pᵀ·dO, dK += dSᵀ·Q, and
//     dS·K added to dqAccum (f32; atomics, or in key-tile order with
//     spec.orderedDq); then dK·scale and dV stored;
//  3. finish (buildFlashBackwardFinishKernel): dq = dqAccum · scale in the
//     element type.
//
// The kernels take a FlashKernelSpec (element, widths, group size, causal,
// scale, lengths, V read from K); rope, decode, transposed output and head
// packing are not backward specs (unsupportedBackwardReason).
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHBACKWARDKERNEL_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHBACKWARDKERNEL_H

#include "FlashKernelSpec.h"

namespace mlir::tucker::flash_to_gpu {

/// Keys per CTA of the main kernel (two consumer warpgroups of 64 keys).
inline constexpr int64_t kBackwardKeys = 128;
/// Query rows per step of the main kernel.
inline constexpr int64_t kBackwardQueries = 64;

/// Why the backward kernels cannot be generated for `spec`, or "".
std::string unsupportedBackwardReason(const FlashKernelSpec &spec);

/// Dynamic shared memory the main kernel requests.
int64_t flashBackwardSharedBytes(const FlashKernelSpec &spec);

/// The arguments of the main kernel, in order:
///   tmapQ, tmapK, tmapV, tmapDO : !llvm.ptr (CUtensorMaps, 4-D as the
///     forward's: (D, N, heads, batch) innermost first, 128-byte swizzle,
///     zero fill; boxes (64, kBackwardQueries, 1, 1) for q and dO,
///     (64, kBackwardKeys, 1, 1) for k and v; tmapV unused when V is read
///     from K)
///   lse, delta : !llvm.ptr (f32 [B, Hq, Nq]; lse as tucker.flash returns it)
///   dqAccum : !llvm.ptr (f32 [B, Hq, Nq, Dqk], zero at launch)
///   counters : !llvm.ptr (i32 [B, Hq, Nq], zero at launch: the counter of
///     a query tile is at its first row; null without spec.orderedDq)
///   dk : !llvm.ptr ([B, Hkv, Nk, Dqk], element type; every row written;
///     with head splits the f32 partials [headSplits, B, Hkv, Nk, Dqk],
///     unscaled)
///   dv : !llvm.ptr ([B, Hkv, Nk, Dv], as dk)
///   lengths : !llvm.ptr (i32 [B], or null without spec.lengths)
///   nq, nk : i32
/// Grid (ceil(Nk / kBackwardKeys), Hkv · headSplits, B), block 384 (two
/// consumer warpgroups and a producer), flashBackwardSharedBytes(spec) bytes of
/// dynamic shared memory.
struct FlashBackwardArgs {
  Value tmapQ, tmapK, tmapV, tmapDO;
  Value lse, delta, dqAccum, counters, dk, dv, lengths;
  Value nq, nk;

  static SmallVector<Type> types(MLIRContext *ctx);
  static FlashBackwardArgs unpack(ValueRange args);
  SmallVector<Value> pack() const;
};

/// The main kernel (see the file comment and FlashBackwardArgs).
gpu::GPUFuncOp buildFlashBackwardKernel(OpBuilder &builder, Location loc,
                                        gpu::GPUModuleOp module,
                                        const FlashKernelSpec &spec,
                                        llvm::StringRef name);

/// The prep kernel:
///   (o, dO : !llvm.ptr (element type, [rows, Dv]), delta : !llvm.ptr
///    (f32 [rows]), dqAccum : !llvm.ptr (f32 [rows, Dqk]), counters :
///    !llvm.ptr (i32 [rows], zeroed with spec.orderedDq, else unused),
///    rows : i32)
/// grid (ceil(rows / kBackwardPrepRows)), block (128).
gpu::GPUFuncOp buildFlashBackwardPrepKernel(OpBuilder &builder, Location loc,
                                            gpu::GPUModuleOp module,
                                            const FlashKernelSpec &spec,
                                            llvm::StringRef name);
/// Query rows per CTA of the prep kernel (one warp per row).
inline constexpr int64_t kBackwardPrepRows = 4;

/// A finish kernel:
///   (src : !llvm.ptr (f32), dst : !llvm.ptr (element type), count : i32)
/// dst[i] = scale · Σ_{s < parts} src[s · count + i] for i < count, the
/// parts added in order; grid (ceil(count / (128 · 4))), block (128). dq
/// from dqAccum is parts 1 with the softmax scale (count rows · Dqk); with
/// head splits, dk and dv from the main kernel's partials are parts
/// spec.headSplits, with the softmax scale for dk and 1 for dv.
gpu::GPUFuncOp buildFlashBackwardFinishKernel(OpBuilder &builder, Location loc,
                                              gpu::GPUModuleOp module,
                                              const FlashKernelSpec &spec,
                                              llvm::StringRef name,
                                              int64_t parts, float scale);

} // namespace mlir::tucker::flash_to_gpu

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHBACKWARDKERNEL_H

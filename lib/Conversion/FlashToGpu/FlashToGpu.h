//===- FlashToGpu.h - Internals of --tucker-flash-to-gpu --------*- C++ -*-===//
//
// Host-side pieces shared by the pass: the launcher function of a kernel and
// the replacement of a tucker.flash by a call to it. The kernel itself is
// built by buildFlashKernel (FlashKernelSpec.h).
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHTOGPU_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHTOGPU_H

#include "FlashKernelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tucker {
class FlashOp;
class FlashScheduleAttr;
namespace flash_to_gpu {

/// `value` made by linalg.transpose of [B, N, H, D] with permutation
/// (0, 2, 1, 3) (how projections become heads), or null.
linalg::TransposeOp headsTranspose(Value value);

/// The only user of `op`'s result when it is such a transpose back to
/// [B, Nq, Hq, Dv], or null.
linalg::TransposeOp resultTranspose(FlashOp op);

/// The buffer type an operand is passed to the launcher as: the [B, H, N, D]
/// view of a heads transpose's input, the view of a column slice's source
/// (ColumnSlice.h; through a tensor.expand_shape after it), else the
/// identity layout of its own type. TMA reads each view in place.
MemRefType operandBufferType(Value operand);

/// The kernel spec of `op` under `schedule` (its shapes, attributes and the
/// schedule's choices), or a diagnostic at the op naming what the kernels
/// cannot do.
FailureOr<FlashKernelSpec> specOf(FlashOp op, FlashScheduleAttr schedule);

/// Host-side choices of a launch (from the op's schedule).
struct LaunchOptions {
  int64_t kvSplits = 0; // 0: from the shapes
  int64_t smCount = 132;
  /// Launch the flash kernel with programmatic stream serialization.
  bool dependentLaunch = false;
};

/// Builds `func.func private @name(q, k, [v,] [lengths,] o, [o_partial,
/// stats, [counters]] : memref)` at the end of `module`: tensor maps from
/// the buffers, then gpu.launch_func of `kernel` and, for a decode spec
/// without counters (dynamic batch or Nq), of `combine`; with counters (a
/// persistent memref<Cxi32>, one per tile) the decode kernel merges its
/// splits itself (types taken from `op`, whose spec is `spec`).
/// With a `rope` kernel, the launcher also takes two scratch buffers of q's
/// and k's types, `rope` writes rotated q and k there, and `kernel` (built
/// for `spec` without rope) reads them.
func::FuncOp buildLauncher(OpBuilder &builder, Location loc, ModuleOp module,
                           gpu::GPUFuncOp kernel, gpu::GPUFuncOp combine,
                           gpu::GPUFuncOp rope, const FlashKernelSpec &spec,
                           const LaunchOptions &decode, FlashOp op,
                           StringRef name);

/// Replaces `op` (on tensors) by buffers of its operands (no v when the
/// spec reads V from K), an output buffer, for decode the partial-result
/// buffers (f32, sized for the launch's splits), with `rotate` the scratch
/// buffers of rotated q and k, a call of `launcher` and the output as a
/// tensor.
void replaceWithLaunch(RewriterBase &rewriter, FlashOp op,
                       const FlashKernelSpec &spec, const LaunchOptions &decode,
                       bool rotate, func::FuncOp launcher);

} // namespace flash_to_gpu
} // namespace mlir::tucker

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHTOGPU_H

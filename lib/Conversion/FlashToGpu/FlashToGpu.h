//===- FlashToGpu.h - Internals of --tucker-flash-to-gpu --------*- C++ -*-===//
//
// Host-side pieces shared by the pass: the launcher function of a kernel and
// the replacement of a tucker.flash by a call to it (FlashHost.cpp), and the
// same for tucker.flash_backward (FlashBackwardHost.cpp). The kernels
// themselves are built by buildFlashKernel (FlashKernelSpec.h) and the
// builders of FlashBackwardKernel.h.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHTOGPU_H
#define TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHTOGPU_H

#include "FlashKernelSpec.h"

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <cmath>

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tucker {
class FlashOp;
class FlashScheduleAttr;
class FlashBackwardOp;
class FlashBackwardScheduleAttr;
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

/// Column offset of `v` in `k` when `v` is `k` or a column slice of `k`
/// (ColumnSlice.h), directly or before a tensor.expand_shape that both went
/// through: the shared latent of a folded Tucker or MLA layer.
std::optional<int64_t> valueColumnInKey(Value v, Value k);

/// The fields of a kernel spec that tucker.flash and tucker.flash_backward
/// set alike from their operands and common attributes: widths, GQA group,
/// lengths, causal, scale, v read from k, rope.
template <typename FlashLikeOp>
void setCommonSpec(FlashKernelSpec &spec, FlashLikeOp op) {
  auto qType = op.getQ().getType();
  spec.qkDim = qType.getDimSize(3);
  spec.valueDim = op.getV().getType().getDimSize(3);
  spec.groupSize = qType.getDimSize(1) / op.getK().getType().getDimSize(1);
  spec.lengths = static_cast<bool>(op.getLengths());
  spec.causal = op.getCausal();
  spec.scaleLog2e = float(op.getEffectiveScale() * M_LOG2E);
  if (std::optional<int64_t> column = valueColumnInKey(op.getV(), op.getK())) {
    spec.valueFromKey = true;
    spec.valueColumn = *column;
  }
  if (RopeAttr rope = op.getRopeAttr()) {
    spec.ropeTheta = rope.getTheta().convertToDouble();
    spec.ropeWidth = rope.getWidth();
    spec.ropeOffset = rope.getOffset();
    spec.ropeRepeat = rope.getRepeat();
    spec.ropeStride = rope.getStrideOrWidth();
    spec.ropeInterleaved = rope.getStyle() == RopeStyle::Interleaved;
  }
}

//===----------------------------------------------------------------------===//
// tucker.flash_backward
//===----------------------------------------------------------------------===//

/// The kernel spec of a tucker.flash_backward under `schedule` (element
/// type, widths, GQA group, causal, scale, lengths; rope and v read from k
/// recorded so that unsupportedBackwardReason sees them), or a diagnostic at
/// the op naming what the kernels cannot do.
FailureOr<FlashKernelSpec> backwardSpecOf(FlashBackwardOp op,
                                          FlashBackwardScheduleAttr schedule);

/// Base name of the backward kernels of `spec`, e.g.
/// `flash_bwd_bf16_d128_g4_causal` (the prep, finish and zero kernels add
/// `_prep`, `_finish`, `_zero`).
std::string backwardBaseName(const FlashKernelSpec &spec);

/// The kernels a backward launcher runs.
struct BackwardKernels {
  gpu::GPUFuncOp prep, main, finish, zero;
  gpu::GPUFuncOp sumKeys, sumValues; // with head splits only
};

/// Builds `func.func private @name(q, k, [v,] o, lse, do, [lengths,] dq, dk,
/// dv, delta, dq_accum[, counters] : memref)` at the end of `module` (types
/// from `op`, whose spec is `spec`): prep, main and finish launched one after
/// the other, each only when its grid is not empty; the main kernel's tensor
/// maps are built only when it runs; without query rows the zero kernel
/// writes dk and dv.
func::FuncOp buildBackwardLauncher(OpBuilder &builder, Location loc,
                                   ModuleOp module,
                                   const BackwardKernels &kernels,
                                   const FlashKernelSpec &spec,
                                   FlashBackwardOp op, StringRef name);

/// Replaces `op` (on tensors) by buffers of its operands, allocations of
/// the gradients and of the scratch (delta [B, Hq, Nq] and dq_accum
/// [B, Hq, Nq, Dqk] in f32; with spec.orderedDq, the counters [B, Hq, Nq]
/// in i32), a call of `launcher` and the gradients as tensors.
void replaceBackwardWithLaunch(RewriterBase &rewriter, FlashBackwardOp op,
                               const FlashKernelSpec &spec,
                               func::FuncOp launcher);

} // namespace flash_to_gpu
} // namespace mlir::tucker

#endif // TUCKER_LIB_CONVERSION_FLASHTOGPU_FLASHTOGPU_H

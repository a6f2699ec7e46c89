//===- ShapeRules.h - Shape rules of the Tucker ops -------------*- C++ -*-===//
//
// The shape and attribute rules of the tucker ops, written once: the op
// verifiers call them with a diagnostic emitter, and passes read the derived
// dimensions from verified ops through them.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_DIALECT_TUCKER_IR_SHAPERULES_H
#define TUCKER_DIALECT_TUCKER_IR_SHAPERULES_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include <optional>

namespace mlir::tucker {
class RopeAttr;
class RmsNormAttr;
class SelectorAttr;
class RanksAttr;
class FlashScheduleAttr;

/// Emits an error at the op being checked; the rules append to it.
using EmitErrorFn = llvm::function_ref<InFlightDiagnostic()>;

/// Dimensions of `tucker.mha` and `tucker.gqa` (dynamic batch and sequence
/// are `ShapedType::kDynamic`).
struct MultiHeadDims {
  int64_t batch, seq, model;
  int64_t numHeads, numKvHeads, headDim, valueDim;
};

/// Dimensions of `tucker.mla`.
struct MlaDims {
  int64_t batch, seq, model, numHeads;
  std::optional<int64_t> qLoraRank;
  int64_t kvLoraRank, nopeDim, ropeDim, valueDim;
};

/// Dimensions of `tucker.attention`: pre ranks (r1, r2, r3) and post ranks
/// (r̃1, r̃2, r̃3).
struct TuckerDims {
  int64_t batch, seq, model, numHeads;
  int64_t r1, r2, r3, r1Out, r2Out, r3Out;
};

/// Dimensions of `tucker.flash`.
struct FlashDims {
  int64_t batch, numHeads, numKvHeads, querySeq, keySeq, qkDim, valueDim;
};

/// Two dimensions that a tucker op requires to be equal (operand with
/// operand) or makes equal (result with operand): what its verifier checks
/// where both are static, and a caller must meet where they are dynamic.
/// `aName`, `bName` name the operands as the op does ("q", "result");
/// `meaning` names the size ("the batch B").
struct DimTie {
  Value a;
  unsigned aDim;
  StringRef aName;
  Value b;
  unsigned bDim;
  StringRef bName;
  StringRef meaning;
};

/// The dimension ties of a tucker op (none for any other op).
SmallVector<DimTie> getDimTies(Operation *op);

/// Operands of `tucker.mha`/`tucker.gqa`; optional ones may be null.
struct MultiHeadOperands {
  Value x, wq, wk, wv, wo, bq, bk, bv, bo;
  Value result;
};
FailureOr<MultiHeadDims> verifyMultiHead(EmitErrorFn emitError,
                                         const MultiHeadOperands &operands,
                                         int64_t numHeads, int64_t numKvHeads);

struct MlaOperands {
  Value x, wqA, qNorm, wqB, wkvA, kvNorm, wkvB, wo;
  Value result;
};
struct MlaConfig {
  int64_t numHeads;
  std::optional<int64_t> qLoraRank;
  int64_t kvLoraRank, nopeDim, ropeDim, valueDim;
  double normEpsilon;
};
FailureOr<MlaDims> verifyMla(EmitErrorFn emitError, const MlaOperands &operands,
                             const MlaConfig &config);

struct TuckerOperands {
  Value x, u1, u2, u3, core, u1Out, u2Out, u3Out, coreOut, queryBias, outBias;
  Value result;
};
FailureOr<TuckerDims> verifyTucker(EmitErrorFn emitError,
                                   const TuckerOperands &operands,
                                   RanksAttr ranks, SelectorAttr selector);

/// Checks q, k, v and the output of a flash; `resultName` names the output
/// in messages ("result" of tucker.flash, "out" of tucker.flash_backward).
FailureOr<FlashDims> verifyFlash(EmitErrorFn emitError, Value q, Value k,
                                 Value v, Value result,
                                 StringRef resultName = "result");

/// Checks a flash's log-sum-exp: `[B, Hq, Nq]` of the flash (its f32 element
/// type is the op's constraint).
LogicalResult verifyFlashLse(EmitErrorFn emitError, Value lse,
                             const FlashDims &dims);

/// Operands and results of `tucker.flash_backward`.
struct FlashBackwardOperands {
  Value q, k, v, out, lse, outGrad;
  Value qGrad, kGrad, vGrad;
};
/// Checks a flash backward: its forward operands as a flash's, `out_grad`
/// of the shape of `out`, `lse` of the flash, and each gradient of the type
/// of its operand.
FailureOr<FlashDims> verifyFlashBackward(EmitErrorFn emitError,
                                         const FlashBackwardOperands &ops);

/// Checks a flash's schedule against its shapes: the heads packed into a
/// query tile divide Hq / Hkv and fit its rows; a decode schedule has a
/// static Nq of at most 64 (one tile); three consumer warpgroups need
/// Dv <= 64 and heads at most 256 wide (the registers of a consumer thread).
/// What needs the kernels' resource model (shared memory, registers of a
/// tile size) is --tucker-gpu-configure's to check.
LogicalResult verifyFlashSchedule(EmitErrorFn emitError,
                                  FlashScheduleAttr schedule,
                                  const FlashDims &dims);

/// Checks a flash's `lengths` operand: i32 `[batch]` (`batch` may be
/// dynamic).
LogicalResult verifyFlashLengths(EmitErrorFn emitError, Value lengths,
                                 int64_t batch);

/// Checks that `rope` rotates only dims inside a vector of `dim` entries,
/// called `what` in the message.
LogicalResult verifyRopeFits(EmitErrorFn emitError, RopeAttr rope, int64_t dim,
                             StringRef what);

/// Checks that an RMS norm over the first dims fits a latent of `dim`.
LogicalResult verifyNormFits(EmitErrorFn emitError, RmsNormAttr norm,
                             int64_t dim, StringRef what);

/// Checks that an explicit softmax scale is finite and positive.
LogicalResult verifyScale(EmitErrorFn emitError, std::optional<double> scale);

/// Checks that every present value has the element type of the first one
/// (f32, f16 or bf16 is enforced by ODS), naming the offender.
LogicalResult
verifySameElementType(EmitErrorFn emitError,
                      ArrayRef<std::pair<StringRef, Value>> namedValues);

} // namespace mlir::tucker

#endif // TUCKER_DIALECT_TUCKER_IR_SHAPERULES_H

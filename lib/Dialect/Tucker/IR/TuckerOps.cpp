//===- TuckerOps.cpp - Tucker operations ----------------------------------===//

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tucker;

/// A diagnostic emitter at `op` for the shape rules.
template <typename OpTy>
static auto errorAt(OpTy op) {
  return [op]() mutable { return op.emitOpError(); };
}

/// The explicit softmax scale of an op, if any.
static std::optional<double> toDouble(std::optional<APFloat> value) {
  if (!value)
    return std::nullopt;
  return value->convertToDouble();
}

/// The rules hold on verified ops; this unwraps their result there.
template <typename T>
static T verified(FailureOr<T> dims) {
  assert(succeeded(dims) && "dimensions of an op that does not verify");
  return *dims;
}

//===----------------------------------------------------------------------===//
// MhaOp / GqaOp
//===----------------------------------------------------------------------===//

static MultiHeadOperands operandsOf(MhaOp op) {
  return {op.getX(),  op.getWq(), op.getWk(), op.getWv(), op.getWo(),
          op.getBq(), op.getBk(), op.getBv(), op.getBo(), op.getResult()};
}

static MultiHeadOperands operandsOf(GqaOp op) {
  return {op.getX(), op.getWq(), op.getWk(), op.getWv(), op.getWo(),
          {},        {},         {},         {},         op.getResult()};
}

template <typename OpTy>
static LogicalResult verifyMultiHeadOp(OpTy op, int64_t numKvHeads) {
  MultiHeadOperands ops = operandsOf(op);
  if (failed(verifySameElementType(
          errorAt(op), {{"x", ops.x}, {"wq", ops.wq}, {"wk", ops.wk},
                        {"wv", ops.wv}, {"wo", ops.wo}, {"bq", ops.bq},
                        {"bk", ops.bk}, {"bv", ops.bv}, {"bo", ops.bo},
                        {"result", ops.result}})))
    return failure();
  FailureOr<MultiHeadDims> dims =
      verifyMultiHead(errorAt(op), ops, op.getNumHeads(), numKvHeads);
  if (failed(dims) || failed(verifyScale(errorAt(op), toDouble(op.getScale()))))
    return failure();
  return verifyRopeFits(errorAt(op), op.getRopeAttr(), dims->headDim,
                        "head (head_dim)");
}

LogicalResult MhaOp::verify() { return verifyMultiHeadOp(*this, getNumHeads()); }

MultiHeadDims MhaOp::getDims() {
  return verified(
      verifyMultiHead(errorAt(*this), operandsOf(*this), getNumHeads(),
                      getNumHeads()));
}

double MhaOp::getEffectiveScale() {
  return toDouble(getScale()).value_or(1.0 / std::sqrt(double(getDims().headDim)));
}

LogicalResult GqaOp::verify() {
  return verifyMultiHeadOp(*this, getNumKvHeads());
}

MultiHeadDims GqaOp::getDims() {
  return verified(verifyMultiHead(errorAt(*this), operandsOf(*this),
                                  getNumHeads(), getNumKvHeads()));
}

double GqaOp::getEffectiveScale() {
  return toDouble(getScale()).value_or(1.0 / std::sqrt(double(getDims().headDim)));
}

//===----------------------------------------------------------------------===//
// MlaOp
//===----------------------------------------------------------------------===//

static MlaOperands operandsOf(MlaOp op) {
  return {op.getX(),    op.getWqA(),  op.getQNorm(), op.getWqB(),
          op.getWkvA(), op.getKvNorm(), op.getWkvB(), op.getWo(),
          op.getResult()};
}

static MlaConfig configOf(MlaOp op) {
  return {int64_t(op.getNumHeads()),
          op.getQLoraRank() ? std::optional<int64_t>(*op.getQLoraRank())
                            : std::nullopt,
          int64_t(op.getKvLoraRank()),
          int64_t(op.getQkNopeHeadDim()),
          int64_t(op.getQkRopeHeadDim()),
          int64_t(op.getVHeadDim()),
          op.getNormEpsilon().convertToDouble()};
}

LogicalResult MlaOp::verify() {
  MlaOperands ops = operandsOf(*this);
  if (failed(verifySameElementType(
          errorAt(*this),
          {{"x", ops.x}, {"wq_a", ops.wqA}, {"q_norm", ops.qNorm},
           {"wq_b", ops.wqB}, {"wkv_a", ops.wkvA}, {"kv_norm", ops.kvNorm},
           {"wkv_b", ops.wkvB}, {"wo", ops.wo}, {"result", ops.result}})))
    return failure();
  MlaConfig cfg = configOf(*this);
  if (failed(verifyMla(errorAt(*this), ops, cfg)) ||
      failed(verifyScale(errorAt(*this), toDouble(getScale()))))
    return failure();
  if (RopeAttr rope = getRopeAttr()) {
    if (failed(verifyRopeFits(errorAt(*this), rope, cfg.nopeDim + cfg.ropeDim,
                              "head (qk_nope_head_dim + qk_rope_head_dim)")))
      return failure();
    // Rotating a no-position dim would tie it to the key's position and
    // break the absorption of W^UK into the query.
    if (rope.getOffset() < cfg.nopeDim)
      return emitOpError() << "rope may only rotate the decoupled dims ["
                           << cfg.nopeDim << ", " << cfg.nopeDim + cfg.ropeDim
                           << ") of each head, but starts at dim "
                           << rope.getOffset();
  }
  return success();
}

MlaDims MlaOp::getDims() {
  return verified(verifyMla(errorAt(*this), operandsOf(*this), configOf(*this)));
}

double MlaOp::getEffectiveScale() {
  MlaDims dims = getDims();
  return toDouble(getScale()).value_or(1.0 /
                             std::sqrt(double(dims.nopeDim + dims.ropeDim)));
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

static TuckerOperands operandsOf(AttentionOp op) {
  return {op.getX(),     op.getU1(),      op.getU2(),   op.getU3(),
          op.getCore(),  op.getU1Out(),   op.getU2Out(), op.getU3Out(),
          op.getCoreOut(), op.getQueryBias(), op.getOutBias(),
          op.getResult()};
}

LogicalResult AttentionOp::verify() {
  TuckerOperands ops = operandsOf(*this);
  if (failed(verifySameElementType(
          errorAt(*this),
          {{"x", ops.x}, {"u1", ops.u1}, {"u2", ops.u2}, {"u3", ops.u3},
           {"core", ops.core}, {"u1_out", ops.u1Out}, {"u2_out", ops.u2Out},
           {"u3_out", ops.u3Out}, {"core_out", ops.coreOut},
           {"query_bias", ops.queryBias}, {"out_bias", ops.outBias},
           {"result", ops.result}})))
    return failure();
  FailureOr<TuckerDims> dims =
      verifyTucker(errorAt(*this), ops, getRanks(), getSelectorAttr());
  if (failed(dims) || failed(verifyScale(errorAt(*this), toDouble(getScale()))))
    return failure();
  if (ops.core && !getScale())
    return emitOpError() << "requires an explicit 'scale' with dense cores";
  if (failed(verifyRopeFits(errorAt(*this), getRopeAttr(), dims->r3,
                            "latent key (r3)")) ||
      failed(verifyNormFits(errorAt(*this), getQueryNormAttr(), dims->r2,
                            "query_norm")) ||
      failed(verifyNormFits(errorAt(*this), getKeyNormAttr(), dims->r3,
                            "key_norm")) ||
      failed(verifyNormFits(errorAt(*this), getValueNormAttr(), dims->r3Out,
                            "value_norm")))
    return failure();
  return success();
}

TuckerDims AttentionOp::getDims() {
  return verified(verifyTucker(errorAt(*this), operandsOf(*this), getRanks(),
                               getSelectorAttr()));
}

double AttentionOp::getEffectiveScale() {
  if (std::optional<double> scale = toDouble(getScale()))
    return *scale;
  return 1.0 / std::sqrt(double(getSelectorAttr().getHeadDim()));
}

//===----------------------------------------------------------------------===//
// FlashOp
//===----------------------------------------------------------------------===//

LogicalResult FlashOp::verify() {
  if (failed(verifySameElementType(errorAt(*this), {{"q", getQ()},
                                                    {"k", getK()},
                                                    {"v", getV()},
                                                    {"result", getResult()}})))
    return failure();
  FailureOr<FlashDims> dims =
      verifyFlash(errorAt(*this), getQ(), getK(), getV(), getResult());
  if (failed(dims) || failed(verifyScale(errorAt(*this), toDouble(getScale()))))
    return failure();
  if (Value lengths = getLengths();
      lengths && failed(verifyFlashLengths(errorAt(*this), lengths, dims->batch)))
    return failure();
  if (Value lse = getLse();
      lse && failed(verifyFlashLse(errorAt(*this), lse, *dims)))
    return failure();
  if (FlashScheduleAttr schedule = getScheduleAttr();
      schedule && failed(verifyFlashSchedule(errorAt(*this), schedule, *dims)))
    return failure();
  return verifyRopeFits(errorAt(*this), getRopeAttr(), dims->qkDim,
                        "query/key head (Dqk)");
}

double FlashOp::getEffectiveScale() {
  int64_t qkDim = getQ().getType().getDimSize(3);
  return toDouble(getScale()).value_or(1.0 / std::sqrt(double(qkDim)));
}

//===----------------------------------------------------------------------===//
// FlashBackwardOp
//===----------------------------------------------------------------------===//

LogicalResult FlashBackwardOp::verify() {
  if (failed(
          verifySameElementType(errorAt(*this), {{"q", getQ()},
                                                 {"k", getK()},
                                                 {"v", getV()},
                                                 {"out", getOut()},
                                                 {"out_grad", getOutGrad()}})))
    return failure();
  FailureOr<FlashDims> dims = verifyFlashBackward(
      errorAt(*this), {getQ(), getK(), getV(), getOut(), getLse(), getOutGrad(),
                       getQGrad(), getKGrad(), getVGrad()});
  if (failed(dims) || failed(verifyScale(errorAt(*this), toDouble(getScale()))))
    return failure();
  if (Value lengths = getLengths();
      lengths &&
      failed(verifyFlashLengths(errorAt(*this), lengths, dims->batch)))
    return failure();
  return verifyRopeFits(errorAt(*this), getRopeAttr(), dims->qkDim,
                        "query/key head (Dqk)");
}

double FlashBackwardOp::getEffectiveScale() {
  int64_t qkDim = getQ().getType().getDimSize(3);
  return toDouble(getScale()).value_or(1.0 / std::sqrt(double(qkDim)));
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  RankedTensorType type = getX().getType();
  if (type.getRank() != 4)
    return emitOpError() << "operand 'x' must have rank 4 ([B, H, N, D]), got "
                         << type.getRank();
  if (getResult().getType() != type)
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the type of 'x' " << type;
  int64_t dim = type.getDimSize(3);
  if (ShapedType::isDynamic(dim))
    return emitOpError() << "operand 'x' must have a static last dim";
  if (Value positions = getPositions()) {
    auto posType = cast<RankedTensorType>(positions.getType());
    int64_t seq = type.getDimSize(2), batch = type.getDimSize(0);
    auto compatible = [](int64_t a, int64_t b) {
      return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
    };
    bool ok = (posType.getRank() == 1 && compatible(posType.getDimSize(0), seq)) ||
              (posType.getRank() == 2 &&
               compatible(posType.getDimSize(0), batch) &&
               compatible(posType.getDimSize(1), seq));
    if (!ok)
      return emitOpError() << "operand 'positions' must have shape [N] or "
                              "[B, N] of 'x', got "
                           << posType;
  }
  return verifyRopeFits([this] { return emitOpError(); }, getRope(), dim,
                        "last dim of 'x'");
}

#define GET_OP_CLASSES
#include "tucker/Dialect/Tucker/IR/TuckerOps.cpp.inc"

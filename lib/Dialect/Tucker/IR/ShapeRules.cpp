//===- ShapeRules.cpp - Shape rules of the Tucker ops ---------------------===//

#include "tucker/Dialect/Tucker/IR/ShapeRules.h"
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <string>

using namespace mlir;
using namespace mlir::tucker;

static constexpr int64_t kAny = ShapedType::kDynamic;

/// Formats a shape as `[2, ?, 64]`.
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::interleave(
      shape,
      [&](int64_t dim) {
        text += ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
      },
      [&] { text += ", "; });
  return text + "]";
}

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// Checks `value` against `expected` (`kAny` matches every size). `meaning`
/// spells the expected shape symbolically, e.g. `[d, num_heads*head_dim]`.
static LogicalResult expectShape(EmitErrorFn emitError, StringRef name,
                                 Value value, ArrayRef<int64_t> expected,
                                 StringRef meaning) {
  ArrayRef<int64_t> actual = shapeOf(value);
  bool matches = actual.size() == expected.size();
  for (auto [want, have] : llvm::zip(expected, actual))
    if (want != kAny && !ShapedType::isDynamic(have) && want != have)
      matches = false;
  if (matches)
    return success();
  return emitError() << "operand '" << name << "' must have shape "
                     << formatShape(expected) << " (" << meaning << "), got "
                     << formatShape(actual);
}

/// Checks that a weight is static with the given rank.
static LogicalResult expectStatic(EmitErrorFn emitError, StringRef name,
                                  Value value, int64_t rank, StringRef meaning) {
  ArrayRef<int64_t> actual = shapeOf(value);
  if (static_cast<int64_t>(actual.size()) != rank)
    return emitError() << "operand '" << name << "' must have rank " << rank
                       << " (" << meaning << "), got "
                       << formatShape(actual);
  if (ShapedType::isDynamicShape(actual))
    return emitError() << "operand '" << name
                       << "' must have a static shape (" << meaning
                       << "), got " << formatShape(actual);
  return success();
}

/// Checks the activation `[B, N, d]` and returns its shape; `d` must be
/// static.
static FailureOr<SmallVector<int64_t>> verifyActivation(EmitErrorFn emitError,
                                                        Value x) {
  ArrayRef<int64_t> shape = shapeOf(x);
  if (shape.size() != 3)
    return emitError() << "operand 'x' must have rank 3 ([B, N, d]), got "
                       << formatShape(shape);
  if (ShapedType::isDynamic(shape[2]))
    return emitError() << "operand 'x' must have a static model dimension "
                          "([B, N, d]), got "
                       << formatShape(shape);
  return SmallVector<int64_t>(shape);
}

/// Checks a `[rows, blocks*width]` weight and returns `width`.
static FailureOr<int64_t> verifyBlockedWeight(EmitErrorFn emitError,
                                              StringRef name, Value value,
                                              int64_t rows, StringRef rowsName,
                                              int64_t blocks,
                                              StringRef blocksName) {
  std::string meaning = ("[" + rowsName + ", " + blocksName + "*width]").str();
  if (failed(expectStatic(emitError, name, value, 2, meaning)) ||
      failed(expectShape(emitError, name, value, {rows, kAny}, meaning)))
    return failure();
  int64_t cols = shapeOf(value)[1];
  if (cols == 0 || cols % blocks != 0)
    return emitError() << "operand '" << name << "' has " << cols
                       << " columns, which is not a positive multiple of "
                       << blocksName << " (" << blocks << ")";
  return cols / blocks;
}

static LogicalResult expectPositive(EmitErrorFn emitError, StringRef name,
                                    int64_t value) {
  if (value > 0)
    return success();
  return emitError() << "attribute '" << name << "' must be positive, got "
                     << value;
}

/// `a * b` and `a + b` of sizes and attributes, or an error saying that
/// `what` overflows a 64-bit size (attributes can be any int64).
static FailureOr<int64_t> checkedMul(EmitErrorFn emitError, StringRef what,
                                     int64_t a, int64_t b) {
  int64_t result;
  if (llvm::MulOverflow(a, b, result))
    return emitError() << what << " = " << a << " * " << b
                       << " overflows a 64-bit size";
  return result;
}

static FailureOr<int64_t> checkedAdd(EmitErrorFn emitError, StringRef what,
                                     int64_t a, int64_t b) {
  int64_t result;
  if (llvm::AddOverflow(a, b, result))
    return emitError() << what << " = " << a << " + " << b
                       << " overflows a 64-bit size";
  return result;
}

LogicalResult
mlir::tucker::verifySameElementType(EmitErrorFn emitError,
                                    ArrayRef<std::pair<StringRef, Value>> named) {
  Type expected;
  StringRef expectedName;
  for (auto [name, value] : named) {
    if (!value)
      continue;
    Type type = cast<ShapedType>(value.getType()).getElementType();
    if (!expected) {
      expected = type;
      expectedName = name;
      continue;
    }
    if (type != expected)
      return emitError() << "'" << name << "' has element type " << type
                         << " but '" << expectedName << "' has " << expected
                         << "; all operands and the result must agree";
  }
  return success();
}

LogicalResult mlir::tucker::verifyScale(EmitErrorFn emitError,
                                        std::optional<double> scale) {
  if (!scale || (std::isfinite(*scale) && *scale > 0.0))
    return success();
  return emitError() << "attribute 'scale' must be finite and positive, got "
                     << *scale;
}

LogicalResult mlir::tucker::verifyRopeFits(EmitErrorFn emitError,
                                           RopeAttr rope, int64_t dim,
                                           StringRef what) {
  if (!rope || rope.getEnd() <= dim)
    return success();
  return emitError() << "rope rotates dims [" << rope.getOffset() << ", "
                     << rope.getEnd() << ") but the "
                     << what << " has only " << dim << " dims";
}

LogicalResult mlir::tucker::verifyNormFits(EmitErrorFn emitError,
                                           RmsNormAttr norm, int64_t dim,
                                           StringRef what) {
  if (!norm || norm.getWidth() <= dim)
    return success();
  return emitError() << what << " normalizes " << norm.getWidth()
                     << " dims but the latent has only " << dim;
}

FailureOr<MultiHeadDims>
mlir::tucker::verifyMultiHead(EmitErrorFn emitError,
                              const MultiHeadOperands &ops, int64_t numHeads,
                              int64_t numKvHeads) {
  if (failed(expectPositive(emitError, "num_heads", numHeads)) ||
      failed(expectPositive(emitError, "num_kv_heads", numKvHeads)))
    return failure();
  if (numHeads % numKvHeads != 0)
    return emitError() << "num_heads (" << numHeads
                       << ") must be a multiple of num_kv_heads ("
                       << numKvHeads << ")";
  FailureOr<SmallVector<int64_t>> xShape = verifyActivation(emitError, ops.x);
  if (failed(xShape))
    return failure();
  int64_t batch = (*xShape)[0], seq = (*xShape)[1], model = (*xShape)[2];

  FailureOr<int64_t> headDim = verifyBlockedWeight(
      emitError, "wq", ops.wq, model, "d", numHeads, "num_heads");
  if (failed(headDim))
    return failure();
  int64_t kvWidth = numKvHeads * *headDim;
  if (failed(expectStatic(emitError, "wk", ops.wk, 2, "[d, num_kv_heads*head_dim]")) ||
      failed(expectShape(emitError, "wk", ops.wk, {model, kvWidth},
                         "[d, num_kv_heads*head_dim]")))
    return failure();
  FailureOr<int64_t> valueDim = verifyBlockedWeight(
      emitError, "wv", ops.wv, model, "d", numKvHeads, "num_kv_heads");
  if (failed(valueDim))
    return failure();
  FailureOr<int64_t> outRows =
      checkedMul(emitError, "num_heads*value_dim", numHeads, *valueDim);
  if (failed(outRows) ||
      failed(expectStatic(emitError, "wo", ops.wo, 2, "[num_heads*value_dim, d]")) ||
      failed(expectShape(emitError, "wo", ops.wo, {*outRows, model},
                         "[num_heads*value_dim, d]")))
    return failure();
  if (ops.bq && failed(expectShape(emitError, "bq", ops.bq,
                                   {numHeads * *headDim},
                                   "[num_heads*head_dim]")))
    return failure();
  if (ops.bk && failed(expectShape(emitError, "bk", ops.bk, {kvWidth},
                                   "[num_kv_heads*head_dim]")))
    return failure();
  if (ops.bv && failed(expectShape(emitError, "bv", ops.bv,
                                   {numKvHeads * *valueDim},
                                   "[num_kv_heads*value_dim]")))
    return failure();
  if (ops.bo && failed(expectShape(emitError, "bo", ops.bo, {model}, "[d]")))
    return failure();
  if (failed(expectShape(emitError, "result", ops.result, {batch, seq, model},
                         "[B, N, d] of 'x'")))
    return failure();
  return MultiHeadDims{batch,      seq,      model,    numHeads,
                       numKvHeads, *headDim, *valueDim};
}

FailureOr<MlaDims> mlir::tucker::verifyMla(EmitErrorFn emitError,
                                           const MlaOperands &ops,
                                           const MlaConfig &cfg) {
  if (failed(expectPositive(emitError, "num_heads", cfg.numHeads)) ||
      failed(expectPositive(emitError, "kv_lora_rank", cfg.kvLoraRank)) ||
      failed(expectPositive(emitError, "v_head_dim", cfg.valueDim)))
    return failure();
  if (cfg.nopeDim < 0 || cfg.ropeDim < 0 ||
      (cfg.nopeDim == 0 && cfg.ropeDim == 0))
    return emitError() << "qk_nope_head_dim (" << cfg.nopeDim
                       << ") and qk_rope_head_dim (" << cfg.ropeDim
                       << ") must be non-negative with a positive sum";
  if (!(cfg.normEpsilon > 0.0) || !std::isfinite(cfg.normEpsilon))
    return emitError() << "attribute 'norm_epsilon' must be finite and "
                          "positive, got "
                       << cfg.normEpsilon;
  if (bool(ops.wqA) != bool(ops.qNorm))
    return emitError() << "'wq_a' and 'q_norm' must be given together";
  if (bool(ops.wqA) != cfg.qLoraRank.has_value())
    return emitError() << "attribute 'q_lora_rank' must be present exactly "
                          "when 'wq_a' is given";
  FailureOr<SmallVector<int64_t>> xShape = verifyActivation(emitError, ops.x);
  if (failed(xShape))
    return failure();
  int64_t batch = (*xShape)[0], seq = (*xShape)[1], model = (*xShape)[2];
  int64_t heads = cfg.numHeads;
  // The derived widths of the expected shapes, each checked for overflow.
  FailureOr<int64_t> qkDim = checkedAdd(
      emitError, "qk_nope_head_dim+qk_rope_head_dim", cfg.nopeDim, cfg.ropeDim);
  if (failed(qkDim))
    return failure();
  FailureOr<int64_t> kvADim = checkedAdd(
      emitError, "kv_lora_rank+qk_rope_head_dim", cfg.kvLoraRank, cfg.ropeDim);
  if (failed(kvADim))
    return failure();
  FailureOr<int64_t> kvBDim = checkedAdd(
      emitError, "qk_nope_head_dim+v_head_dim", cfg.nopeDim, cfg.valueDim);
  if (failed(kvBDim))
    return failure();
  FailureOr<int64_t> qCols = checkedMul(
      emitError, "num_heads*(qk_nope_head_dim+qk_rope_head_dim)", heads,
      *qkDim);
  if (failed(qCols))
    return failure();
  FailureOr<int64_t> kvBCols = checkedMul(
      emitError, "num_heads*(qk_nope_head_dim+v_head_dim)", heads, *kvBDim);
  if (failed(kvBCols))
    return failure();
  FailureOr<int64_t> oRows =
      checkedMul(emitError, "num_heads*v_head_dim", heads, cfg.valueDim);
  if (failed(oRows))
    return failure();

  int64_t qIn = model;
  if (ops.wqA) {
    int64_t qLora = *cfg.qLoraRank;
    if (failed(expectPositive(emitError, "q_lora_rank", qLora)) ||
        failed(expectStatic(emitError, "wq_a", ops.wqA, 2, "[d, q_lora_rank]")) ||
        failed(expectShape(emitError, "wq_a", ops.wqA, {model, qLora},
                           "[d, q_lora_rank]")) ||
        failed(expectShape(emitError, "q_norm", ops.qNorm, {qLora},
                           "[q_lora_rank]")))
      return failure();
    qIn = qLora;
  }
  struct Expect {
    StringRef name;
    Value value;
    SmallVector<int64_t> shape;
    StringRef meaning;
  };
  Expect expects[] = {
      {"wq_b", ops.wqB, {qIn, *qCols},
       ops.wqA ? "[q_lora_rank, num_heads*(qk_nope_head_dim+qk_rope_head_dim)]"
               : "[d, num_heads*(qk_nope_head_dim+qk_rope_head_dim)]"},
      {"wkv_a", ops.wkvA, {model, *kvADim},
       "[d, kv_lora_rank+qk_rope_head_dim]"},
      {"kv_norm", ops.kvNorm, {cfg.kvLoraRank}, "[kv_lora_rank]"},
      {"wkv_b", ops.wkvB, {cfg.kvLoraRank, *kvBCols},
       "[kv_lora_rank, num_heads*(qk_nope_head_dim+v_head_dim)]"},
      {"wo", ops.wo, {*oRows, model}, "[num_heads*v_head_dim, d]"},
  };
  for (const Expect &e : expects)
    if (failed(expectStatic(emitError, e.name, e.value, e.shape.size(),
                            e.meaning)) ||
        failed(expectShape(emitError, e.name, e.value, e.shape, e.meaning)))
      return failure();
  if (failed(expectShape(emitError, "result", ops.result, {batch, seq, model},
                         "[B, N, d] of 'x'")))
    return failure();
  return MlaDims{batch,          seq,          model,       heads,
                 cfg.qLoraRank, cfg.kvLoraRank, cfg.nopeDim, cfg.ropeDim,
                 cfg.valueDim};
}

FailureOr<TuckerDims> mlir::tucker::verifyTucker(EmitErrorFn emitError,
                                                 const TuckerOperands &ops,
                                                 RanksAttr ranks,
                                                 SelectorAttr selector) {
  FailureOr<SmallVector<int64_t>> xShape = verifyActivation(emitError, ops.x);
  if (failed(xShape))
    return failure();
  int64_t batch = (*xShape)[0], seq = (*xShape)[1], model = (*xShape)[2];
  ArrayRef<int64_t> pre = ranks.getPre(), post = ranks.getPost();
  int64_t r1 = pre[0], r2 = pre[1], r3 = pre[2];
  int64_t s1 = post[0], s2 = post[1], s3 = post[2];

  if (failed(expectStatic(emitError, "u1", ops.u1, 2, "[num_heads, r1]")))
    return failure();
  int64_t heads = shapeOf(ops.u1)[0];
  if (heads <= 0)
    return emitError() << "operand 'u1' must have at least one head row";

  struct Expect {
    StringRef name;
    Value value;
    SmallVector<int64_t> shape;
    StringRef meaning;
  };
  SmallVector<Expect> expects = {
      {"u1", ops.u1, {heads, r1}, "[num_heads, r1] per ranks"},
      {"u2", ops.u2, {model, r2}, "[d, r2] per ranks"},
      {"u3", ops.u3, {model, r3}, "[d, r3] per ranks"},
      {"u1_out", ops.u1Out, {heads, s1}, "[num_heads, r1_out] per ranks"},
      {"u2_out", ops.u2Out, {model, s2}, "[d, r2_out] per ranks"},
      {"u3_out", ops.u3Out, {model, s3}, "[d, r3_out] per ranks"},
  };
  if (ops.core)
    expects.push_back({"core", ops.core, {r1, r2, r3}, "[r1, r2, r3] per ranks"});
  if (ops.coreOut)
    expects.push_back(
        {"core_out", ops.coreOut, {s1, s2, s3}, "[r1_out, r2_out, r3_out] per ranks"});
  if (ops.queryBias)
    expects.push_back({"query_bias", ops.queryBias, {r2}, "[r2]"});
  if (ops.outBias)
    expects.push_back({"out_bias", ops.outBias, {model}, "[d]"});
  for (const Expect &e : expects)
    if (failed(expectStatic(emitError, e.name, e.value, e.shape.size(),
                            e.meaning)) ||
        failed(expectShape(emitError, e.name, e.value, e.shape, e.meaning)))
      return failure();

  if (bool(ops.core) != bool(ops.coreOut))
    return emitError() << "'core' and 'core_out' must both be given or both "
                          "be absent (with a selector)";
  if (ops.core && selector)
    return emitError() << "dense cores and a 'selector' are exclusive: give "
                          "one or the other";
  if (!ops.core && !selector)
    return emitError() << "without dense cores a 'selector' attribute is "
                          "required";
  if (selector) {
    int64_t blocks = selector.getGroups().size();
    int64_t kvBlocks = selector.getNumKvBlocks();
    int64_t headDim = selector.getHeadDim();
    int64_t valueDim = selector.getValueDimOrHeadDim();
    FailureOr<int64_t> preQuery =
        checkedMul(emitError, "selector heads*head_dim", blocks, headDim);
    if (failed(preQuery))
      return failure();
    FailureOr<int64_t> preKey =
        checkedMul(emitError, "selector key blocks*head_dim", kvBlocks, headDim);
    if (failed(preKey))
      return failure();
    FailureOr<int64_t> postOut =
        checkedMul(emitError, "selector heads*value_dim", blocks, valueDim);
    if (failed(postOut))
      return failure();
    FailureOr<int64_t> postValue = checkedMul(
        emitError, "selector key blocks*value_dim", kvBlocks, valueDim);
    if (failed(postValue))
      return failure();
    SmallVector<int64_t> wantPre = {blocks, *preQuery, *preKey};
    SmallVector<int64_t> wantPost = {blocks, *postOut, *postValue};
    if (ArrayRef<int64_t>(wantPre) != pre || ArrayRef<int64_t>(wantPost) != post)
      return emitError() << "a selector of " << blocks << " heads over "
                         << kvBlocks << " key blocks (head_dim " << headDim
                         << ", value_dim " << valueDim << ") needs ranks "
                         << formatShape(wantPre) << ", " << formatShape(wantPost)
                         << ", got " << formatShape(pre) << ", "
                         << formatShape(post);
  }
  if (failed(expectShape(emitError, "result", ops.result, {batch, seq, model},
                         "[B, N, d] of 'x'")))
    return failure();
  return TuckerDims{batch, seq, model, heads, r1, r2, r3, s1, s2, s3};
}

FailureOr<FlashDims> mlir::tucker::verifyFlash(EmitErrorFn emitError, Value q,
                                               Value k, Value v, Value result,
                                               StringRef resultName) {
  for (auto [name, value] : {std::pair<StringRef, Value>{"q", q},
                             {"k", k},
                             {"v", v},
                             {resultName, result}}) {
    ArrayRef<int64_t> shape = shapeOf(value);
    if (shape.size() != 4)
      return emitError() << "'" << name
                         << "' must have rank 4 ([B, H, N, D]), got "
                         << formatShape(shape);
    if (ShapedType::isDynamic(shape[1]) || ShapedType::isDynamic(shape[3]))
      return emitError() << "'" << name
                         << "' must have static head count and width "
                            "([B, H, N, D]), got "
                         << formatShape(shape);
  }
  ArrayRef<int64_t> qs = shapeOf(q), ks = shapeOf(k);
  int64_t heads = qs[1], kvHeads = ks[1];
  if (kvHeads <= 0 || heads % kvHeads != 0)
    return emitError() << "the query head count (" << heads
                       << ") must be a positive multiple of the key/value "
                          "head count ("
                       << kvHeads << ")";
  if (failed(expectShape(emitError, "k", k, {qs[0], kAny, kAny, qs[3]},
                         "[B, Hkv, Nk, Dqk] with B and Dqk of 'q'")))
    return failure();
  ArrayRef<int64_t> vs = shapeOf(v);
  if (failed(expectShape(emitError, "v", v, {qs[0], kvHeads, ks[2], kAny},
                         "[B, Hkv, Nk, Dv] with B, Hkv, Nk of 'k'")) ||
      failed(expectShape(emitError, resultName, result,
                         {qs[0], heads, qs[2], vs[3]},
                         "[B, Hq, Nq, Dv] of 'q' and 'v'")))
    return failure();
  return FlashDims{qs[0], heads, kvHeads, qs[2], ks[2], qs[3], vs[3]};
}

LogicalResult mlir::tucker::verifyFlashLse(EmitErrorFn emitError, Value lse,
                                           const FlashDims &dims) {
  return expectShape(emitError, "lse", lse,
                     {dims.batch, dims.numHeads, dims.querySeq},
                     "[B, Hq, Nq] of 'q', one log-sum-exp per query row");
}

FailureOr<FlashDims>
mlir::tucker::verifyFlashBackward(EmitErrorFn emitError,
                                  const FlashBackwardOperands &ops) {
  FailureOr<FlashDims> dims =
      verifyFlash(emitError, ops.q, ops.k, ops.v, ops.out, "out");
  if (failed(dims) ||
      failed(expectShape(
          emitError, "out_grad", ops.outGrad,
          {dims->batch, dims->numHeads, dims->querySeq, dims->valueDim},
          "[B, Hq, Nq, Dv] of 'out'")) ||
      failed(verifyFlashLse(emitError, ops.lse, *dims)))
    return failure();
  for (auto [name, grad, operandName, operand] :
       {std::tuple<StringRef, Value, StringRef, Value>{"q_grad", ops.qGrad, "q",
                                                       ops.q},
        {"k_grad", ops.kGrad, "k", ops.k},
        {"v_grad", ops.vGrad, "v", ops.v}})
    if (grad.getType() != operand.getType())
      return emitError() << "result '" << name << "' must have the type of '"
                         << operandName << "' (" << operand.getType()
                         << "), got " << grad.getType();
  return dims;
}

LogicalResult mlir::tucker::verifyFlashSchedule(EmitErrorFn emitError,
                                                FlashScheduleAttr schedule,
                                                const FlashDims &dims) {
  bool wide = dims.qkDim > 256 || dims.valueDim > 256;
  int64_t rows =
      schedule.getDecode() || wide ? 64 : 64 * schedule.getConsumers();
  int64_t group = dims.numHeads / dims.numKvHeads;
  int64_t heads = schedule.getHeadsPerTile();
  if (group % heads != 0 || heads > rows)
    return emitError() << "schedule: heads_per_tile = " << heads
                       << " must divide Hq / Hkv = " << group
                       << " and fit the query tile's " << rows << " rows";
  if (schedule.getDecode() &&
      (ShapedType::isDynamic(dims.querySeq) || dims.querySeq > 64))
    return emitError() << "schedule: decode needs a static Nq of at most 64 "
                          "(one query tile), got "
                       << (ShapedType::isDynamic(dims.querySeq)
                               ? std::string("?")
                               : std::to_string(dims.querySeq));
  if (schedule.getConsumers() == 3 && (dims.valueDim > 64 || wide))
    return emitError() << "schedule: consumers = 3 needs Dv <= 64 (a consumer "
                          "thread has 160 registers), got Dv = "
                       << dims.valueDim;
  return success();
}

LogicalResult mlir::tucker::verifyFlashLengths(EmitErrorFn emitError,
                                               Value lengths, int64_t batch) {
  Type element = cast<RankedTensorType>(lengths.getType()).getElementType();
  if (!element.isSignlessInteger(32))
    return emitError() << "operand 'lengths' must have element type i32 (valid "
                          "keys per sequence), got "
                       << element;
  return expectShape(emitError, "lengths", lengths, {batch},
                     "[B] of 'q', one key count per sequence");
}

SmallVector<DimTie> mlir::tucker::getDimTies(Operation *op) {
  SmallVector<DimTie> ties;
  auto tie = [&](Value a, unsigned aDim, StringRef aName, Value b,
                 unsigned bDim, StringRef bName, StringRef meaning) {
    ties.push_back({a, aDim, aName, b, bDim, bName, meaning});
  };
  // A layer's result is [B, N, d] of 'x'; its weights are static.
  auto layer = [&](Value x, Value result) {
    tie(result, 0, "result", x, 0, "x", "the batch B");
    tie(result, 1, "result", x, 1, "x", "the sequence length N");
  };
  // q, k, v, lengths and the output of a flash; its log-sum-exp when given.
  auto flashTies = [&](Value q, Value k, Value v, Value lengths, Value result,
                       StringRef resultName, Value lse) {
    tie(k, 0, "k", q, 0, "q", "the batch B");
    tie(v, 0, "v", q, 0, "q", "the batch B");
    tie(v, 1, "v", k, 1, "k", "the key/value heads Hkv");
    tie(v, 2, "v", k, 2, "k", "the key count Nk");
    tie(k, 3, "k", q, 3, "q", "the query/key width Dqk");
    if (lengths)
      tie(lengths, 0, "lengths", q, 0, "q", "the batch B");
    tie(result, 0, resultName, q, 0, "q", "the batch B");
    tie(result, 1, resultName, q, 1, "q", "the query heads Hq");
    tie(result, 2, resultName, q, 2, "q", "the query count Nq");
    tie(result, 3, resultName, v, 3, "v", "the value width Dv");
    if (lse)
      for (unsigned d = 0; d < 3; ++d)
        tie(lse, d, "lse", q, d, "q", "a dim of [B, Hq, Nq] of 'q'");
  };
  if (auto flash = dyn_cast<FlashOp>(op)) {
    flashTies(flash.getQ(), flash.getK(), flash.getV(), flash.getLengths(),
              flash.getResult(), "result", flash.getLse());
  } else if (auto backward = dyn_cast<FlashBackwardOp>(op)) {
    Value q = backward.getQ(), k = backward.getK(), v = backward.getV();
    Value out = backward.getOut();
    flashTies(q, k, v, backward.getLengths(), out, "out", backward.getLse());
    for (unsigned d = 0; d < 4; ++d) {
      tie(backward.getOutGrad(), d, "out_grad", out, d, "out",
          "a dim of 'out'");
      tie(backward.getQGrad(), d, "q_grad", q, d, "q", "a dim of 'q'");
      tie(backward.getKGrad(), d, "k_grad", k, d, "k", "a dim of 'k'");
      tie(backward.getVGrad(), d, "v_grad", v, d, "v", "a dim of 'v'");
    }
  } else if (auto rope = dyn_cast<RopeOp>(op)) {
    Value x = rope.getX();
    for (unsigned d = 0; d < 4; ++d)
      tie(rope.getResult(), d, "result", x, d, "x", "a dim of 'x'");
    if (Value positions = rope.getPositions()) {
      bool perBatch =
          cast<RankedTensorType>(positions.getType()).getRank() == 2;
      if (perBatch)
        tie(positions, 0, "positions", x, 0, "x", "the batch B");
      tie(positions, perBatch ? 1 : 0, "positions", x, 2, "x",
          "the sequence length N");
    }
  } else if (auto mha = dyn_cast<MhaOp>(op)) {
    layer(mha.getX(), mha.getResult());
  } else if (auto gqa = dyn_cast<GqaOp>(op)) {
    layer(gqa.getX(), gqa.getResult());
  } else if (auto mla = dyn_cast<MlaOp>(op)) {
    layer(mla.getX(), mla.getResult());
  } else if (auto attention = dyn_cast<AttentionOp>(op)) {
    layer(attention.getX(), attention.getResult());
  }
  return ties;
}

//===- RaiseFlash.cpp - softmax(s·q·kᵀ + mask)·v of tensors → tucker.flash
//-===//
//
// When the projections are not in view, the attention core itself is
// raised. The dims of the result are sorted by what reads them: dims that
// q, k and v all read are batch × key/value heads, dims only q reads are the
// query position and the query heads of a group (GQA / MQA by broadcasting
// or repeating k and v), dims only v reads are the value width. The flash
// op sees one batch of heads [1, Hkv·G, Nq, D]; the result goes back to the
// frontend's layout.
//
//===----------------------------------------------------------------------===//

#include "RaiseMatch.h"

#include "mlir/IR/TypeUtilities.h"

#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::raise;

namespace {

/// The leaves a mask or a rope table reads, which name the query position.
void positionLeaves(Evaluator &ev, const Core &core,
                    llvm::SetVector<Dim> &out) {
  if (core.mask.added)
    ev.freeLeaves(core.mask.added, out);
  if (core.mask.cond)
    ev.freeLeaves(core.mask.cond, out);
  if (core.qRope) {
    ev.freeLeaves(core.qRope->cos, out);
    ev.freeLeaves(core.qRope->sin, out);
  }
}

} // namespace

FailureOr<Operation *>
mlir::tucker::raise::raiseToFlash(RewriterBase &rewriter, Operation *root,
                                  const RaiseOptions &options, Why &why) {
  Value result = root->getResult(0);
  auto type = cast<RankedTensorType>(result.getType());
  Type element = type.getElementType();
  if (!type.hasStaticShape() || !isSupportedFloat(element))
    return why.fail(kNone, "the result is not a static f32/f16/bf16 tensor");
  Evaluator ev;
  SmallVector<Dim> rootDims;
  Expr *o = ev.refAll(result, rootDims);
  Core core;
  if (failed(matchCore(ev, o, options, core, why)))
    return failure();

  Expr *q = asRef(core.q), *k = asRef(core.k), *v = asRef(core.v);
  if (!q || !k || !v)
    return why.fail(kScores, Twine(!q   ? "the queries"
                                   : !k ? "the keys"
                                        : "the values") +
                                 " are computed in place, not read from a "
                                 "tensor");
  for (Expr *operand : {q, k, v})
    if (getElementTypeOrSelf(operand->value.getType()) != element ||
        !cast<ShapedType>(operand->value.getType()).hasStaticShape())
      return why.fail(kScores, "q, k and v are not static tensors of the "
                               "result's element type");

  // Roles of the leaves.
  SmallVector<Dim> rootLeaves = leavesOf(ev, rootDims);
  llvm::SetVector<Dim> qL, kL, vL;
  ev.freeLeaves(q, qL);
  ev.freeLeaves(k, kL);
  ev.freeLeaves(v, vL);
  Dim n = core.key;
  ArrayRef<Dim> contracted = core.contracted;
  auto isRoot = [&](Dim d) { return llvm::is_contained(rootLeaves, d); };
  auto isContracted = [&](Dim d) { return llvm::is_contained(contracted, d); };
  SmallVector<Dim> shared, values, queryOnly;
  for (Dim d : rootLeaves) {
    bool inQ = qL.contains(d), inK = kL.contains(d), inV = vL.contains(d);
    if (inQ && inK && inV)
      shared.push_back(d);
    else if (inV && !inQ && !inK)
      values.push_back(d);
    else if (inQ && !inK && !inV)
      queryOnly.push_back(d);
    else
      return why.fail(kScores, "a result dim is read by " +
                                   Twine(inQ ? "q " : "") + (inK ? "k " : "") +
                                   (inV ? "v " : "") +
                                   "only, which is no attention layout");
  }
  if (qL.contains(n))
    return why.fail(kScores, "the queries depend on the key position");
  for (Dim d : qL)
    if (!isRoot(d) && !isContracted(d))
      return why.fail(kScores, "the queries read a dim of neither the "
                               "result nor q·kᵀ");
  for (Dim d : kL)
    if (d != n && !isContracted(d) && !llvm::is_contained(shared, d))
      return why.fail(kScores, "the keys read a dim that v does not");
  for (Dim d : vL)
    if (d != n && !llvm::is_contained(shared, d) &&
        !llvm::is_contained(values, d))
      return why.fail(kScores, "the values read a dim that the keys do not");
  if (queryOnly.empty())
    return why.fail(kScores, "no result dim is a query position");

  // The query position: the one the mask or the rope reads, else the
  // query-only dim with as many entries as keys, else the last.
  llvm::SetVector<Dim> positional;
  positionLeaves(ev, core, positional);
  SmallVector<Dim> named;
  for (Dim d : queryOnly)
    if (positional.contains(d))
      named.push_back(d);
  if (named.size() > 1)
    return why.fail(kOperands, "the mask or the rope reads several query "
                               "dims");
  Dim m = queryOnly.back();
  if (!named.empty()) {
    m = named.front();
  } else {
    for (Dim d : llvm::reverse(queryOnly))
      if (ev.dims.size(d) == ev.dims.size(n)) {
        m = d;
        break;
      }
  }
  SmallVector<Dim> group;
  for (Dim d : queryOnly)
    if (d != m)
      group.push_back(d);

  int64_t nq = ev.dims.size(m), nk = ev.dims.size(n);
  int64_t headDim = extentOf(ev, contracted), valueDim = extentOf(ev, values);
  int64_t kvHeads = extentOf(ev, shared), groupSize = extentOf(ev, group);
  int64_t offset = nk - nq;
  bool causal;
  if (failed(verifyMask(ev, core.mask, m, n, offset, options, causal, why)))
    return failure();
  if (causal && offset < 0)
    return why.fail(kOperands, "causal with more queries than keys leaves "
                               "queries without keys (the frontend yields "
                               "NaN there, tucker zeros)");
  FailureOr<RopeAttr> rope = verifyRope(ev, core, m, n, offset, why);
  if (failed(rope)) {
    // Not a RoPE tucker can express: the rotated q and k are still tensors.
    RaiseOptions plain = options;
    plain.peelRope = false;
    Why retry;
    FailureOr<Operation *> flash = raiseToFlash(rewriter, root, plain, retry);
    if (succeeded(flash))
      return flash;
    return failure();
  }

  // The outermost shared dim is the batch when there are several.
  SmallVector<Dim> batch;
  if (shared.size() > 1)
    batch.push_back(shared.front());
  ArrayRef<Dim> kvLeaves = ArrayRef<Dim>(shared).drop_front(batch.size());
  int64_t batchSize = extentOf(ev, batch);
  kvHeads = extentOf(ev, kvLeaves);
  Lin b = mixedRadix(ev, batch), sh = mixedRadix(ev, kvLeaves),
      gr = mixedRadix(ev, group);
  Lin head = sh.scaled(groupSize) + gr;
  Lin kIndex = mixedRadix(ev, contracted), vIndex = mixedRadix(ev, values);
  Lin mPos = Lin::ofDim(m), nPos = Lin::ofDim(n);
  int64_t heads = kvHeads * groupSize;
  SmallVector<int64_t> qShape{batchSize, heads, nq, headDim},
      kShape{batchSize, kvHeads, nk, headDim},
      vShape{batchSize, kvHeads, nk, valueDim},
      oShape{batchSize, heads, nq, valueDim};
  SmallVector<Lin> qIndex{b, head, mPos, kIndex}, kvIndex{b, sh, nPos, kIndex},
      vvIndex{b, sh, nPos, vIndex}, oAccess{b, head, mPos, vIndex}, rootIndex;
  for (Dim d : rootDims)
    rootIndex.push_back(Lin::ofDim(d));

  struct Operand {
    Expr *read;
    ArrayRef<int64_t> shape;
    ArrayRef<Lin> index;
  } operands[] = {
      {q, qShape, qIndex}, {k, kShape, kvIndex}, {v, vShape, vvIndex}};
  for (const Operand &operand : operands)
    if (failed(checkLayout(ev, operand.read->access, operand.shape,
                           operand.index)))
      return why.fail(kOperands, "q, k or v cannot be laid out as flash "
                                 "heads");
  if (failed(checkLayout(ev, oAccess, type.getShape(), rootIndex)))
    return why.fail(kOperands, "the flash result cannot be laid out as the "
                               "original result");

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(root);
  Location loc = fusedLocation(ev, root);
  SmallVector<Value> qkv;
  for (const Operand &operand : operands)
    qkv.push_back(*materialize(rewriter, loc, ev, operand.read->value,
                               operand.read->access, operand.shape,
                               operand.index));
  auto flash = FlashOp::create(
      rewriter, loc, RankedTensorType::get(oShape, element), /*lse=*/Type(),
      qkv[0], qkv[1], qkv[2], /*lengths=*/Value(), causal,
      rewriter.getF64FloatAttr(core.scale), *rope, /*schedule=*/nullptr);
  Value out = *materialize(rewriter, loc, ev, flash.getResult(), oAccess,
                           type.getShape(), rootIndex);
  rewriter.replaceOp(root, out);
  return flash.getOperation();
}

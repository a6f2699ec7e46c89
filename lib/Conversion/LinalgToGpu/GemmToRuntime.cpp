//===- GemmToRuntime.cpp - GEMM-shaped linalg ops to tuckerGemm calls -----===//
//
// --tucker-gemm-to-runtime: every contraction on tensors whose product is a
// (strided, batched) matrix product becomes a call of a launcher that calls
// the runtime's tuckerGemm (cuBLASLt, include/tucker/Runtime/Gemm.h), at the
// op site:
//
//   %a = bufferization.to_buffer %A read_only   (identity layout)
//   %b = bufferization.to_buffer %B read_only
//   %c = memref.alloc() : memref<...>           (the result)
//   %w = memref.alloc() : memref<Sxi8>          (cuBLASLt scratch)
//   call @tucker_gemm_launch...(%a, %b, [%bias,] %c, %w)
//   %C = bufferization.to_tensor %c restrict writable
//
// Loop dims are batch (in A, B and C), M (A and C), N (B and C) or K (A and
// B) (linalg::inferContractionDims). The plan maps them onto the runtime's
// problem: the K dims, and the M dims and N dims that stay matrix dims, must
// each be one run of adjacent tensor dims (so that a run is one stride); an
// M (N) dim that is not becomes a batch dim that B (A) broadcasts; batch dims
// merge where they are adjacent everywhere; two batch levels at most (the
// inner one a cuBLASLt strided batch, the outer one a loop in the runtime).
// An operand may be transposed first (a copy, linalg.transpose), the result
// after; all three in canonical order ([batch, M, K], [batch, K, N],
// [batch, M, N]) always works. The cheapest plan wins: copied elements plus
// about 2M elements per call of an outer loop; a result copy that is a head
// transpose read only by tucker.flash ops is free (--tucker-flash-to-gpu
// reads it in place).
//
// Absorbed: a linalg.transpose producing A or B (read through its
// permutation), the elementwise cast of an f32 result to f16/bf16 (the
// product is rounded once, by cuBLASLt) and a following bias add over the
// last dim (cuBLASLt's bias epilogue) when they are the only users. An
// operand that is a column slice (ColumnSlice.h, --tucker-merge-products'
// results) is read in place with its source's row pitch.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "tucker/Conversion/ColumnSlice.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Runtime/Gemm.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERGEMMTORUNTIMEPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

enum class Kind { Batch, M, N, K };

/// A tensor the product reads or writes, and the loop dim of each of its
/// dims (outermost first).
struct Operand {
  Value tensor;
  SmallVector<unsigned> dims;
  /// A column slice read in place (ColumnSlice.h): its rows are further
  /// apart than its last dim is wide, so no run may span the last dim.
  bool rowPitched = false;

  std::optional<unsigned> position(unsigned loop) const {
    auto it = llvm::find(dims, loop);
    if (it == dims.end())
      return std::nullopt;
    return it - dims.begin();
  }
  bool has(unsigned loop) const { return position(loop).has_value(); }
  /// Whether `loops` are adjacent dims here, in this order.
  bool isRun(ArrayRef<unsigned> loops) const {
    if (loops.empty())
      return true;
    std::optional<unsigned> first = position(loops.front());
    if (!first || *first + loops.size() > dims.size())
      return false;
    if (rowPitched && loops.size() > 1 && *first + loops.size() == dims.size())
      return false;
    return ArrayRef<unsigned>(dims).slice(*first, loops.size()) == loops;
  }
};

/// How a product runs: the order of each operand's dims in memory (its own,
/// or a canonical one it is copied to first), the matrix dims and the batch
/// levels (outer first).
struct Plan {
  bool copyA = false, copyB = false, copyC = false;
  Operand a, b, c;
  SmallVector<unsigned> m, n, k;
  SmallVector<SmallVector<unsigned>> levels;
};

/// A contraction and what of its users the call absorbs.
struct Product {
  linalg::LinalgOp op;
  Operand a, b, c;
  SmallVector<Kind> kinds;
  SmallVector<int64_t> sizes; // static loop sizes (kDynamic where dynamic)
  Type abType, cType;
  Value bias;
  Operation *last; // the op whose result the call's result replaces
};

std::optional<int32_t> gemmType(Type type) {
  if (type.isF32())
    return TUCKER_GEMM_F32;
  if (type.isF16())
    return TUCKER_GEMM_F16;
  if (type.isBF16())
    return TUCKER_GEMM_BF16;
  return std::nullopt;
}

/// The loop dims of a projected permutation's results.
std::optional<SmallVector<unsigned>> loopDims(AffineMap map) {
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return std::nullopt;
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults())
    dims.push_back(cast<AffineDimExpr>(e).getPosition());
  return dims;
}

/// `value` without the float casts in front of it.
Value skipCasts(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// Whether `op` is an all-parallel generic with `inputs` inputs and one
/// output of identity map.
bool isIdentityElementwise(linalg::GenericOp op, unsigned inputs) {
  if (op.getNumDpsInputs() != inputs || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0)
    return false;
  AffineMap out = op.getIndexingMapsArray().back();
  return out.isIdentity();
}

/// `op` rounds its one input to its output type (a cast generic).
bool isCast(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !isIdentityElementwise(generic, 1) ||
      !generic.getIndexingMapsArray()[0].isIdentity())
    return false;
  auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
  return skipCasts(yield.getOperand(0)) == generic.getBody()->getArgument(0);
}

/// The bias of `op` if it adds a 1-D bias over the last dim to `input`
/// (the bias and `input` of the output's element type).
Value biasOf(Operation *op, Value input) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !isIdentityElementwise(generic, 2))
    return {};
  unsigned rank = generic.getNumLoops();
  Type element = getElementTypeOrSelf(generic.getResult(0).getType());
  Block *body = generic.getBody();
  for (unsigned i = 0; i < 2; ++i) {
    Value x = generic.getDpsInputs()[i], bias = generic.getDpsInputs()[1 - i];
    AffineMap xMap = generic.getIndexingMapsArray()[i];
    AffineMap biasMap = generic.getIndexingMapsArray()[1 - i];
    if (x != input || !xMap.isIdentity() || biasMap.getNumResults() != 1 ||
        biasMap.getResult(0) != getAffineDimExpr(rank - 1, op->getContext()) ||
        getElementTypeOrSelf(bias.getType()) != element ||
        getElementTypeOrSelf(x.getType()) != element)
      continue;
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    auto add = skipCasts(yield.getOperand(0)).getDefiningOp<arith::AddFOp>();
    if (!add)
      continue;
    Value lhs = skipCasts(add.getLhs()), rhs = skipCasts(add.getRhs());
    Value argX = body->getArgument(i), argBias = body->getArgument(1 - i);
    if ((lhs == argX && rhs == argBias) || (lhs == argBias && rhs == argX))
      return bias;
  }
  return {};
}

/// `operand` read through a linalg.transpose that produces it.
Operand throughTranspose(Operand operand) {
  auto transpose = operand.tensor.getDefiningOp<linalg::TransposeOp>();
  if (!transpose)
    return operand;
  Operand source{transpose.getInput(), operand.dims};
  // Result dim j is input dim perm[j].
  for (auto [j, p] : llvm::enumerate(transpose.getPermutation()))
    source.dims[p] = operand.dims[j];
  return source;
}

/// Analyzes `op` as a product the runtime computes, or says why not.
FailureOr<Product> analyze(linalg::LinalgOp op, PatternRewriter &rewriter) {
  auto fail = [&](const Twine &why) {
    return rewriter.notifyMatchFailure(op, why);
  };
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || !linalg::isaContractionOpInterface(op))
    return fail("not a two-operand contraction on tensors");
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.empty())
    return fail("no reduction dim shared by both operands");
  Product p;
  p.op = op;
  p.kinds.assign(op.getNumLoops(), Kind::Batch);
  unsigned classified = 0;
  for (auto [kind, group] :
       {std::make_pair(Kind::Batch, &dims->batch),
        std::make_pair(Kind::M, &dims->m), std::make_pair(Kind::N, &dims->n),
        std::make_pair(Kind::K, &dims->k)})
    for (unsigned d : *group) {
      p.kinds[d] = kind;
      ++classified;
    }
  if (classified != op.getNumLoops())
    return fail("a loop dim is read by only one operand");
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<SmallVector<unsigned>> aDims = loopDims(maps[0]),
                                       bDims = loopDims(maps[1]),
                                       cDims = loopDims(maps[2]);
  if (!aDims || !bDims || !cDims)
    return fail("an indexing map is not a projected permutation");
  p.a = throughTranspose({op.getDpsInputs()[0], *aDims});
  p.b = throughTranspose({op.getDpsInputs()[1], *bDims});
  for (Operand *x : {&p.a, &p.b})
    x->rowPitched = tucker::columnSliceOf(x->tensor) != nullptr;
  p.c = {Value(), *cDims};
  p.sizes = op.getStaticLoopRanges();
  if (llvm::any_of(llvm::zip(p.kinds, p.sizes), [](auto ks) {
        return std::get<0>(ks) == Kind::K && std::get<1>(ks) == 0;
      }))
    return fail("an empty reduction (k = 0)");

  p.abType = getElementTypeOrSelf(p.a.tensor.getType());
  if (p.abType != getElementTypeOrSelf(p.b.tensor.getType()) ||
      !gemmType(p.abType))
    return fail("operands are not both f32, f16 or bf16");
  Value init = op.getDpsInits()[0];
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return fail("the init is not a zero fill");

  // Absorb a cast of the result, then a bias add.
  Value result = op->getResult(0);
  p.last = op;
  p.cType = getElementTypeOrSelf(result.getType());
  if (result.hasOneUse() && isCast(*result.getUsers().begin())) {
    p.last = *result.getUsers().begin();
    result = p.last->getResult(0);
    p.cType = getElementTypeOrSelf(result.getType());
  }
  if (!gemmType(p.cType))
    return fail("the result is not f32, f16 or bf16");
  if (result.hasOneUse())
    if (Value bias = biasOf(*result.getUsers().begin(), result)) {
      p.bias = bias;
      p.last = *result.getUsers().begin();
    }
  return p;
}

/// The loop dims of `kind`, in the order `order` has them.
SmallVector<unsigned> ofKind(const Product &p, const Operand &order,
                             Kind kind) {
  SmallVector<unsigned> out;
  for (unsigned d : order.dims)
    if (p.kinds[d] == kind)
      out.push_back(d);
  return out;
}

/// `operand` with its dims reordered to `groups` concatenated.
Operand reordered(Operand operand,
                  std::initializer_list<SmallVector<unsigned>> groups) {
  operand.dims.clear();
  operand.rowPitched = false; // a copy is contiguous
  for (const SmallVector<unsigned> &g : groups)
    operand.dims.append(g.begin(), g.end());
  return operand;
}

/// The matrix dims of one group (M with A and C, or N with B and C): all of
/// them when they are one run in both, else only the innermost (the others
/// become batch dims).
SmallVector<unsigned> matrixDims(ArrayRef<unsigned> all, const Operand &x,
                                 const Operand &c) {
  if (all.empty() || (x.isRun(all) && c.isRun(all)))
    return SmallVector<unsigned>(all);
  return {all.back()};
}

/// The plan for given operand orders, if the runtime can read them.
std::optional<Plan> planFor(const Product &p, const Operand &a,
                            const Operand &b, const Operand &c) {
  Plan plan{false, false, false, a, b, c, {}, {}, {}, {}};
  plan.k = ofKind(p, a, Kind::K);
  if (!a.isRun(plan.k) || !b.isRun(plan.k))
    return std::nullopt;
  plan.m = matrixDims(ofKind(p, c, Kind::M), a, c);
  plan.n = matrixDims(ofKind(p, c, Kind::N), b, c);
  // One matrix dim run of each operand is its innermost dims (unit stride).
  auto innermostIn = [](const Operand &x, ArrayRef<unsigned> g1,
                        ArrayRef<unsigned> g2) {
    unsigned last = x.dims.back();
    return llvm::is_contained(g1, last) || llvm::is_contained(g2, last);
  };
  if (!innermostIn(a, plan.m, plan.k) || !innermostIn(b, plan.k, plan.n))
    return std::nullopt;
  // C is row-major: N innermost (or M when n = 1).
  if (!(plan.n.empty() ? innermostIn(c, plan.m, {})
                       : innermostIn(c, plan.n, {})))
    return std::nullopt;
  // Batch dims, in C's order, merged where adjacent in every operand that
  // has them (and absent together elsewhere).
  for (unsigned d : c.dims) {
    if (llvm::is_contained(plan.m, d) || llvm::is_contained(plan.n, d))
      continue;
    if (!plan.levels.empty()) {
      SmallVector<unsigned> merged = plan.levels.back();
      merged.push_back(d);
      bool adjacent = llvm::all_of(
          std::initializer_list<const Operand *>{&a, &b, &c},
          [&](const Operand *x) {
            bool hasPrev = x->has(merged.front()), hasThis = x->has(d);
            return hasPrev == hasThis && (!hasThis || x->isRun(merged));
          });
      if (adjacent) {
        plan.levels.back() = merged;
        continue;
      }
    }
    plan.levels.push_back({d});
  }
  if (plan.levels.size() > 2)
    return std::nullopt;
  return plan;
}

/// Product of the static sizes of `dims` (a large number when one is
/// dynamic).
int64_t elements(const Product &p, ArrayRef<unsigned> dims) {
  int64_t n = 1;
  for (unsigned d : dims) {
    if (ShapedType::isDynamic(p.sizes[d]))
      return int64_t(1) << 40;
    n *= p.sizes[d];
  }
  return n;
}

/// What a cuBLASLt call costs beyond its work, in copied elements: a few
/// microseconds of launch and host time, about what copying 2M bf16
/// elements (8 MB moved) takes.
constexpr int64_t kCallElements = int64_t(1) << 21;

/// Whether a copy of the result from `from` into C's order is free: a head
/// transpose ([B, N, H, D] to [B, H, N, D]) that --tucker-flash-to-gpu reads
/// in place, because every user of the result is a tucker.flash.
bool copyIntoFlashIsFree(const Product &p, const Operand &from) {
  if (p.c.dims.size() != 4)
    return false;
  SmallVector<int64_t> perm;
  for (unsigned d : p.c.dims)
    perm.push_back(*from.position(d));
  Value result = p.last->getResult(0);
  return perm == ArrayRef<int64_t>{0, 2, 1, 3} && !result.use_empty() &&
         llvm::all_of(result.getUsers(), llvm::IsaPred<tucker::FlashOp>);
}

/// The cheapest plan: copied elements plus the outer loop's calls.
Plan choosePlan(const Product &p) {
  SmallVector<unsigned> batch = ofKind(p, p.c, Kind::Batch);
  SmallVector<unsigned> m = ofKind(p, p.c, Kind::M),
                        n = ofKind(p, p.c, Kind::N);
  SmallVector<unsigned> k = ofKind(p, p.a, Kind::K);
  Operand canonA = reordered(p.a, {batch, m, k});
  Operand canonB = reordered(p.b, {batch, k, n});
  Operand canonC = reordered(p.c, {batch, m, n});
  bool freeC = copyIntoFlashIsFree(p, canonC);
  std::optional<Plan> best;
  int64_t bestCost = 0;
  for (unsigned mask = 0; mask < 8; ++mask) {
    bool ca = mask & 1, cb = mask & 2, cc = mask & 4;
    std::optional<Plan> plan =
        planFor(p, ca ? canonA : p.a, cb ? canonB : p.b, cc ? canonC : p.c);
    if (!plan)
      continue;
    int64_t outer =
        plan->levels.size() == 2 ? elements(p, plan->levels.front()) : 1;
    int64_t cost =
        (ca ? elements(p, p.a.dims) : 0) + (cb ? elements(p, p.b.dims) : 0) +
        (cc && !freeC ? elements(p, p.c.dims) : 0) +
        std::min<int64_t>(outer - 1, int64_t(1) << 20) * kCallElements;
    if (!best || cost < bestCost) {
      best = plan;
      best->copyA = ca;
      best->copyB = cb;
      best->copyC = cc;
      bestCost = cost;
    }
  }
  assert(best && "the canonical orders always make a plan");
  return *best;
}

/// Sizes of `x`'s dims in its order (for tensor.empty).
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, const Product &p,
                                  const Operand &x) {
  SmallVector<OpFoldResult> out;
  for (unsigned d : x.dims) {
    if (!ShapedType::isDynamic(p.sizes[d])) {
      out.push_back(b.getIndexAttr(p.sizes[d]));
      continue;
    }
    // A dynamic loop size from an input that has the dim (every loop dim is
    // in A or B); reading the op's own result would keep it alive.
    for (auto [value, dims] : {std::make_pair(p.a.tensor, &p.a.dims),
                               std::make_pair(p.b.tensor, &p.b.dims)}) {
      auto it = llvm::find(*dims, d);
      if (it == dims->end())
        continue;
      out.push_back(
          tensor::DimOp::create(b, loc, value, it - dims->begin()).getResult());
      break;
    }
  }
  return out;
}

/// `source` (dims `from`) transposed into the order of `to`.
Value transposeTo(OpBuilder &b, Location loc, const Product &p, Value source,
                  const Operand &from, const Operand &to) {
  SmallVector<int64_t> perm;
  for (unsigned d : to.dims)
    perm.push_back(*from.position(d));
  Value init = tensor::EmptyOp::create(b, loc, sizesOf(b, loc, p, to),
                                       getElementTypeOrSelf(source.getType()));
  return linalg::TransposeOp::create(b, loc, source, init, perm).getResult()[0];
}

/// The identity-layout memref of a ranked tensor type.
MemRefType bufferType(Type tensorType) {
  auto type = cast<RankedTensorType>(tensorType);
  return MemRefType::get(type.getShape(), type.getElementType());
}

/// Builds the launcher of `plan`: sizes and strides from its memref
/// arguments (A, B, [bias,] C, scratch), then one tuckerGemm call.
func::FuncOp buildLauncher(OpBuilder &builder, ModuleOp module,
                           func::FuncOp tuckerGemm, const Product &p,
                           const Plan &plan, TypeRange argTypes,
                           int64_t scratchBytes) {
  MLIRContext *ctx = builder.getContext();
  Location loc = p.op->getLoc();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  std::string name = "tucker_gemm_";
  llvm::raw_string_ostream os(name);
  os << p.abType << "_" << p.cType << (p.bias ? "_bias" : "");
  auto func = func::FuncOp::create(builder, loc, name,
                                   builder.getFunctionType(argTypes, {}));
  func.setPrivate();
  OpBuilder b = OpBuilder::atBlockEnd(func.addEntryBlock());
  ValueRange args = func.getArguments();
  Value aBuf = args[0], bBuf = args[1];
  Value biasBuf = p.bias ? args[2] : Value();
  Value cBuf = args[p.bias ? 3 : 2], scratch = args.back();

  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  auto mul = [&](Value x, Value y) {
    return arith::MulIOp::create(b, loc, x, y).getResult();
  };
  // Size of each memref dim, and its row-major stride.
  struct Strided {
    const Operand *order;
    SmallVector<Value> sizes, strides;
  };
  auto describe = [&](Value buffer, const Operand &order) {
    Strided s{&order, {}, {}};
    auto type = cast<MemRefType>(buffer.getType());
    for (int64_t j = 0; j < type.getRank(); ++j)
      s.sizes.push_back(
          type.isDynamicDim(j)
              ? memref::DimOp::create(b, loc, buffer, j).getResult()
              : index(type.getDimSize(j)));
    if (!type.getLayout().isIdentity()) { // a column slice's view
      auto meta = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
      s.strides.assign(meta.getStrides().begin(), meta.getStrides().end());
      return s;
    }
    s.strides.resize(type.getRank());
    Value stride = index(1);
    for (int64_t j = type.getRank() - 1; j >= 0; --j) {
      s.strides[j] = stride;
      stride = mul(stride, s.sizes[j]);
    }
    return s;
  };
  Strided sa = describe(aBuf, plan.a), sb = describe(bBuf, plan.b),
          sc = describe(cBuf, plan.c);
  // Size of loop dim d (from C, or A for K dims), and the stride of a group
  // (that of its innermost dim) in an operand, 0 where it has none.
  auto size = [&](unsigned d) {
    const Strided &s = p.kinds[d] == Kind::K ? sa : sc;
    return s.sizes[*s.order->position(d)];
  };
  auto product = [&](ArrayRef<unsigned> dims) {
    Value n = index(1);
    for (unsigned d : dims)
      n = mul(n, size(d));
    return n;
  };
  auto stride = [&](const Strided &s, ArrayRef<unsigned> group) {
    if (group.empty())
      return index(0);
    std::optional<unsigned> j = s.order->position(group.back());
    return j ? s.strides[*j] : index(0);
  };
  SmallVector<unsigned> none;
  const SmallVector<unsigned> &inner =
      plan.levels.empty() ? none : plan.levels.back();
  const SmallVector<unsigned> &outer =
      plan.levels.size() == 2 ? plan.levels.front() : none;

  auto i64 = [&](Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v).getResult();
  };
  auto i32 = [&](int32_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v).getResult();
  };
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto pointer = [&](Value buffer) -> Value {
    if (!buffer)
      return LLVM::ZeroOp::create(b, loc, ptrType);
    Value address = tucker::firstElementAddress(b, loc, buffer);
    return LLVM::IntToPtrOp::create(b, loc, ptrType, i64(address));
  };
  SmallVector<Value> callArgs{i32(*gemmType(p.abType)),
                              i32(*gemmType(p.cType)),
                              i64(product(plan.m)),
                              i64(product(plan.n)),
                              i64(product(plan.k)),
                              i64(product(inner)),
                              i64(product(outer)),
                              pointer(aBuf),
                              i64(stride(sa, plan.m)),
                              i64(stride(sa, plan.k)),
                              i64(stride(sa, inner)),
                              i64(stride(sa, outer)),
                              pointer(bBuf),
                              i64(stride(sb, plan.k)),
                              i64(stride(sb, plan.n)),
                              i64(stride(sb, inner)),
                              i64(stride(sb, outer)),
                              pointer(cBuf),
                              i64(stride(sc, plan.m)),
                              i64(stride(sc, inner)),
                              i64(stride(sc, outer)),
                              pointer(biasBuf),
                              pointer(scratch),
                              i64(index(scratchBytes))};
  func::CallOp::create(b, loc, tuckerGemm, callArgs);
  func::ReturnOp::create(b, loc);
  return func;
}

struct GemmToRuntime : OpInterfaceRewritePattern<linalg::LinalgOp> {
  GemmToRuntime(MLIRContext *ctx, int64_t scratchBytes)
      : OpInterfaceRewritePattern(ctx), scratchBytes(scratchBytes) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getParentOfType<gpu::GPUModuleOp>())
      return rewriter.notifyMatchFailure(op, "inside a gpu.module");
    FailureOr<Product> product = analyze(op, rewriter);
    if (failed(product))
      return failure();
    Product &p = *product;
    Plan plan = choosePlan(p);
    // cuBLASLt's bias is per column of the row-major C: the innermost dim of
    // C must be the only N dim.
    if (p.bias && (plan.copyC || plan.n.size() != 1 ||
                   plan.n.front() != p.c.dims.back())) {
      p.bias = Value();
      p.last = p.cType == getElementTypeOrSelf(op->getResult(0).getType())
                   ? op.getOperation()
                   : *op->getResult(0).getUsers().begin();
    }

    Location loc = op.getLoc();
    auto module = op->getParentOfType<ModuleOp>();
    Value a = plan.copyA
                  ? transposeTo(rewriter, loc, p, p.a.tensor, p.a, plan.a)
                  : p.a.tensor;
    Value bValue = plan.copyB
                       ? transposeTo(rewriter, loc, p, p.b.tensor, p.b, plan.b)
                       : p.b.tensor;
    auto toBuffer = [&](Value tensor) -> Value {
      auto read = [&](Value t) {
        return bufferization::ToBufferOp::create(
                   rewriter, loc, bufferType(t.getType()), t,
                   /*read_only=*/true)
            .getResult();
      };
      tensor::ExtractSliceOp slice = tucker::columnSliceOf(tensor);
      if (!slice)
        return read(tensor);
      // A column slice: a view of its source, which cuBLASLt reads with the
      // source's row pitch.
      return tucker::columnSliceView(rewriter, loc, slice,
                                     read(slice.getSource()));
    };
    SmallVector<Value> args{toBuffer(a), toBuffer(bValue)};
    if (p.bias)
      args.push_back(toBuffer(p.bias));
    // The result, in plan.c's order (C's own unless copied after).
    SmallVector<OpFoldResult> cSizes = sizesOf(rewriter, loc, p, plan.c);
    SmallVector<int64_t> cShape;
    SmallVector<Value> dynamic;
    for (OpFoldResult s : cSizes) {
      std::optional<int64_t> v = getConstantIntValue(s);
      cShape.push_back(v ? *v : ShapedType::kDynamic);
      if (!v)
        dynamic.push_back(cast<Value>(s));
    }
    auto cType = MemRefType::get(cShape, p.cType);
    Value c = memref::AllocOp::create(rewriter, loc, cType, dynamic);
    args.push_back(c);
    args.push_back(memref::AllocOp::create(
        rewriter, loc, MemRefType::get({scratchBytes}, rewriter.getI8Type())));

    func::FuncOp launcher =
        getLauncher(rewriter, module, p, plan, TypeRange(ValueRange(args)));
    func::CallOp::create(rewriter, loc, launcher, args);
    Value result = bufferization::ToTensorOp::create(
        rewriter, loc, RankedTensorType::get(cShape, p.cType), c,
        /*restrict=*/true, /*writable=*/true);
    if (plan.copyC)
      result = transposeTo(rewriter, loc, p, result, plan.c, p.c);
    if (result.getType() != p.last->getResult(0).getType())
      result = tensor::CastOp::create(rewriter, loc,
                                      p.last->getResult(0).getType(), result);
    // The absorbed chain op → [cast →] [bias add →] p.last dies with it.
    SmallVector<Operation *> chain{p.last};
    while (chain.back() != op.getOperation())
      chain.push_back(chain.back()->getOperand(0).getDefiningOp());
    rewriter.replaceOp(p.last, result);
    for (Operation *x : llvm::drop_begin(chain))
      rewriter.eraseOp(x);
    return success();
  }

private:
  /// One launcher per plan and argument types, one tuckerGemm declaration.
  func::FuncOp getLauncher(PatternRewriter &rewriter, ModuleOp module,
                           const Product &p, const Plan &plan,
                           TypeRange argTypes) const {
    std::string key;
    llvm::raw_string_ostream os(key);
    auto dims = [&](ArrayRef<unsigned> d) {
      for (unsigned x : d)
        os << x << ",";
      os << ";";
    };
    dims(plan.a.dims);
    dims(plan.b.dims);
    dims(plan.c.dims);
    dims(plan.m);
    dims(plan.n);
    dims(plan.k);
    for (const SmallVector<unsigned> &level : plan.levels)
      dims(level);
    for (Type t : argTypes)
      os << t << ";";
    for (unsigned d = 0; d < p.kinds.size(); ++d)
      os << int(p.kinds[d]);
    func::FuncOp &launcher = launchers[key];
    if (launcher)
      return launcher;
    SymbolTable symbols(module);
    auto gemm = module.lookupSymbol<func::FuncOp>("tuckerGemm");
    if (!gemm) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      auto ptr = LLVM::LLVMPointerType::get(rewriter.getContext());
      Type i32 = rewriter.getI32Type(), i64 = rewriter.getI64Type();
      SmallVector<Type> types{i32, i32, i64, i64, i64, i64, i64, ptr,
                              i64, i64, i64, i64, ptr, i64, i64, i64,
                              i64, ptr, i64, i64, i64, ptr, ptr, i64};
      gemm = func::FuncOp::create(rewriter, module.getLoc(), "tuckerGemm",
                                  rewriter.getFunctionType(types, {}));
      gemm.setPrivate();
    }
    launcher =
        buildLauncher(rewriter, module, gemm, p, plan, argTypes, scratchBytes);
    symbols.insert(launcher); // unique name
    return launcher;
  }

  int64_t scratchBytes;
  mutable llvm::StringMap<func::FuncOp> launchers;
};

struct TuckerGemmToRuntimePass
    : tucker::impl::TuckerGemmToRuntimePassBase<TuckerGemmToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    if (workspaceBytes < 0) {
      emitError(getOperation().getLoc())
          << "--tucker-gemm-to-runtime: workspace-bytes = "
          << int64_t(workspaceBytes) << " must be >= 0";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<GemmToRuntime>(&getContext(), workspaceBytes);
    // Ops are matched top-down, so a producer is rewritten before the
    // contraction that reads it through a transpose.
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace

//===- FlashHost.cpp - Host side of the generated flash kernels -----------===//
//
// The launcher function that --tucker-flash-to-gpu emits next to each kernel,
// and the replacement of a tucker.flash on tensors by a call to it.
//
// Launcher ABI (docs/gpu-notes.md, "The --tucker-flash-to-gpu pass"):
//
//   func.func private @tucker_flash_launch_<kernel>(
//       %q: memref<BxHqxNqxDqkxT>, %k: memref<BxHkvxNkxDqkxT>,
//       [%v: memref<BxHkvxNkxDvxT>,] [%lengths: memref<Bxi32>,]
//       %o: memref<BxHqxNqxDvxT>, [%o_partial, %stats: memref<?xf32>,
//       [%counters: memref<Cxi32>]])
//
// with row-major (identity-layout) device buffers; %v is absent when the
// kernel reads V out of K, the partial buffers unless the kernel decodes,
// the arrival counters unless the decode kernel merges its own splits
// (static B and Nq; the op site allocates them `tucker.persistent`).
// It builds the tensor maps with nvgpu.tma.create.descriptor (the upstream
// host op; it lowers to mgpuTensorMapEncodeTiledMemref, which encodes the
// CUtensorMap and copies it to device memory), and launches the kernel with
// gpu.launch_func on grid (ceil(Nq / rows) · splits, Hq / headsPerTile, B),
// block 384 and the kernel's dynamic shared memory, then for decode without
// counters the combine kernel, when Nq > 0 and B > 0.
//
//===----------------------------------------------------------------------===//

#include "FlashToGpu.h"
#include "HostUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "tucker/Conversion/ColumnSlice.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

linalg::TransposeOp mlir::tucker::flash_to_gpu::headsTranspose(Value value) {
  auto transpose = value.getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose->getNumResults() != 1 ||
      !isa<RankedTensorType>(transpose.getInput().getType()))
    return {};
  ArrayRef<int64_t> perm = transpose.getPermutation();
  if (perm.size() != 4 || perm[0] != 0 || perm[1] != 2 || perm[2] != 1 ||
      perm[3] != 3)
    return {};
  return transpose;
}

linalg::TransposeOp
mlir::tucker::flash_to_gpu::resultTranspose(FlashOp op) {
  if (!op.getResult().hasOneUse())
    return {};
  auto transpose = dyn_cast<linalg::TransposeOp>(*op.getResult().user_begin());
  return transpose && headsTranspose(transpose->getResult(0)) ? transpose
                                                               : nullptr;
}

/// [B, H, N, D] view of an identity [B, N, H, D] buffer (memref.transpose's
/// result type).
static MemRefType headsView(MemRefType source) {
  auto [strides, offset] = source.getStridesAndOffset();
  ArrayRef<int64_t> shape = source.getShape();
  return MemRefType::get(
      {shape[0], shape[2], shape[1], shape[3]}, source.getElementType(),
      StridedLayoutAttr::get(source.getContext(), offset,
                             {strides[0], strides[2], strides[1], strides[3]}));
}

/// A column slice (ColumnSlice.h) an operand is read from in place, and
/// the tensor.expand_shape after it when there is one (a head dim of size 1
/// inserted into a kv projection: [B, N, D] to [B, 1, N, D]).
struct SlicedOperand {
  tensor::ExtractSliceOp slice;
  tensor::ExpandShapeOp expand;
};

/// The view of the slice's source that `s` is, as a memref type.
static FailureOr<MemRefType> slicedBufferType(SlicedOperand s) {
  MemRefType view = memref::SubViewOp::inferResultType(
      bufferType(s.slice.getSource().getType()), s.slice.getStaticOffsets(),
      s.slice.getStaticSizes(), s.slice.getStaticStrides());
  if (!s.expand)
    return view;
  return memref::ExpandShapeOp::computeExpandedType(
      view, s.expand.getResultType().getShape(),
      s.expand.getReassociationIndices());
}

static std::optional<SlicedOperand> slicedOperand(Value operand) {
  auto expand = operand.getDefiningOp<tensor::ExpandShapeOp>();
  SlicedOperand s{columnSliceOf(expand ? expand.getSrc() : operand), expand};
  if (!s.slice || failed(slicedBufferType(s)))
    return std::nullopt;
  return s;
}

MemRefType mlir::tucker::flash_to_gpu::operandBufferType(Value operand) {
  if (linalg::TransposeOp transpose = headsTranspose(operand))
    return headsView(bufferType(transpose.getInput().getType()));
  if (std::optional<SlicedOperand> s = slicedOperand(operand))
    return *slicedBufferType(*s);
  return bufferType(operand.getType());
}

/// The output buffer type: [B, Nq, Hq, Dv] when the kernel writes the
/// transposed output.
static MemRefType outputBufferType(FlashOp op, const FlashKernelSpec &spec) {
  if (spec.outputTransposed)
    return bufferType(resultTranspose(op)->getResult(0).getType());
  return bufferType(op.getResult().getType());
}

namespace {

/// Shared memory of one SM that CTAs can use (228 KiB, 1 KiB of it reserved
/// per CTA).
constexpr int64_t kSmSharedBytes = 233472;

/// How a decode launch splits the key sequence: query tiles, splits per
/// tile and key tiles per split. Without kv-splits, enough splits that the
/// CTAs fill `smCount` SMs as often as shared memory lets them share one.
/// Splits for `ctas` CTAs, `slots` of which run at once, over `tiles` key
/// tiles: none when the CTAs already nearly fill a wave; else the fewest
/// whose wave efficiency (CTAs over the slots of the waves they take) is
/// within 85% of the best, so that the last wave is not mostly idle and
/// the partial results stay few.
/// Automatic splits per query tile at most: the combine kernel merges a
/// row's partials (then two per split) one after another, about 0.4 µs each on
/// an H100, so past ~64 partials the merge costs more than the extra CTAs
/// stream (B 1, latent r256, 32k cache: 226 partials took 98 µs to merge
/// against 8 µs of decode work; docs/perf.md, "Decode, where the latent time
/// goes").
constexpr int64_t kMaxAutoSplits = 32;

/// Cache bytes one unsplit CTA streams from which 45 % of the SMs, each
/// streaming one such sequence, saturate HBM: latent r256, B 64, cache 4096
/// (64 CTAs of 2 MiB on 132 SMs) moved 2548 GB/s unsplit against 2332 with
/// two splits, which add a merge and a tail (H100, docs/perf.md, "Decode with
/// programmatic dependent launch and the saturation rule").
constexpr int64_t kSaturatingCtaBytes = int64_t(2) << 20;

int64_t chooseSplits(int64_t ctas, int64_t slots, int64_t tiles,
                     int64_t ctaBytes) {
  if (ctas * 5 >= slots * 4)
    return 1;
  if (ctas * 20 >= slots * 9 && ctaBytes >= kSaturatingCtaBytes)
    return 1;
  int64_t most = std::min<int64_t>(tiles, kMaxAutoSplits);
  auto efficiency = [&](int64_t s) {
    // Splits that leave tiles per split unchanged add nothing.
    int64_t per = (tiles + s - 1) / s;
    int64_t used = ctas * ((tiles + per - 1) / per);
    int64_t waves = (used + slots - 1) / slots;
    return double(used) / double(waves * slots);
  };
  double best = 0;
  for (int64_t s = 1; s <= most; ++s)
    best = std::max(best, efficiency(s));
  for (int64_t s = 1; s <= most; ++s)
    if (efficiency(s) >= 0.85 * best)
      return s;
  return 1;
}

struct SplitPlan {
  OpFoldResult qTiles, splits, tilesPerSplit;
};

SplitPlan planSplits(IndexMath &m, const FlashKernelSpec &spec,
                     const LaunchOptions &decode, OpFoldResult batch,
                     OpFoldResult nq, OpFoldResult nk, int64_t headTiles) {
  FlashTiling tiling(spec);
  SplitPlan plan;
  plan.qTiles = m.ceilDiv(nq, m.c(spec.rowsPerHead()));
  if (!spec.decode) {
    plan.splits = m.c(1);
    plan.tilesPerSplit = m.c(0);
    return plan;
  }
  OpFoldResult tiles = m.max(m.ceilDiv(nk, m.c(tiling.blockN)), m.c(1));
  OpFoldResult want;
  int64_t perSm =
      std::max<int64_t>(1, kSmSharedBytes / (tiling.request + 1024));
  OpFoldResult ctas =
      m.max(m.mul(m.mul(plan.qTiles, m.c(headTiles)), batch), m.c(1));
  std::optional<int64_t> staticCtas = getConstantIntValue(ctas);
  std::optional<int64_t> staticTiles = getConstantIntValue(tiles);
  if (decode.kvSplits > 0)
    want = m.c(decode.kvSplits);
  else if (staticCtas && staticTiles) {
    // The K/V bytes (16-bit elements) of one (tile, kv head, batch)
    // sequence.
    int64_t rowBytes =
        (spec.qkDim + (spec.valueFromKey ? 0 : spec.valueDim)) * 2;
    std::optional<int64_t> keys = getConstantIntValue(nk);
    want = m.c(chooseSplits(*staticCtas, decode.smCount * perSm, *staticTiles,
                            keys ? *keys * rowBytes : 0));
  }
  else // at least one wave
    want = m.min(m.ceilDiv(m.c(decode.smCount * perSm), ctas),
                 m.c(kMaxAutoSplits));
  OpFoldResult splits = m.max(m.min(want, tiles), m.c(1));
  plan.tilesPerSplit = m.ceilDiv(tiles, splits);
  plan.splits = m.ceilDiv(tiles, plan.tilesPerSplit);
  return plan;
}

/// Arrival counters of a decode kernel that merges its own splits: one per
/// (batch, head tile, query tile), when batch and Nq are static and the
/// launch is not empty. None otherwise: a dynamic count could not live in
/// the persistent workspace, and zeroing it per call would be a stream
/// operation of its own, so the combine kernel merges instead.
std::optional<int64_t> counterCount(const FlashKernelSpec &spec,
                                    MemRefType qType) {
  if (!spec.mergesSplits() || qType.isDynamicDim(0) || qType.isDynamicDim(2))
    return std::nullopt;
  int64_t rows = spec.rowsPerHead();
  int64_t count = qType.getDimSize(0) *
                  (qType.getDimSize(1) / spec.headsPerTile) *
                  ((qType.getDimSize(2) + rows - 1) / rows);
  if (count == 0)
    return std::nullopt;
  return count;
}

} // namespace

/// `tuckerLaunchDependentNext()` of the runtime: the next launch on this
/// thread uses programmatic stream serialization (lib/Runtime/MgpuShim.cpp).
static func::FuncOp dependentNextFn(ModuleOp module) {
  constexpr StringLiteral name = "tuckerLaunchDependentNext";
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  auto b = OpBuilder::atBlockBegin(module.getBody());
  auto fn =
      func::FuncOp::create(b, module.getLoc(), name, b.getFunctionType({}, {}));
  fn.setPrivate();
  return fn;
}

/// The runtime's `mgpuMemset<bits>(dst, value, count, stream)` (a null
/// stream: the caller's, inside a compiled entry; lib/Runtime/MgpuShim.cpp).
static func::FuncOp memsetFn(ModuleOp module, int64_t bits) {
  std::string name = "mgpuMemset" + std::to_string(bits);
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  auto b = OpBuilder::atBlockBegin(module.getBody());
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  auto fn = func::FuncOp::create(
      b, module.getLoc(), name,
      b.getFunctionType({ptr, b.getIntegerType(bits), b.getI64Type(), ptr},
                        {}));
  fn.setPrivate();
  return fn;
}

func::FuncOp mlir::tucker::flash_to_gpu::buildLauncher(
    OpBuilder &builder, Location loc, ModuleOp module, gpu::GPUFuncOp kernel,
    gpu::GPUFuncOp combine, gpu::GPUFuncOp rope, const FlashKernelSpec &spec,
    const LaunchOptions &decode, FlashOp op, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  MLIRContext *ctx = builder.getContext();
  MemRefType qType = operandBufferType(op.getQ());
  MemRefType kType = operandBufferType(op.getK());
  MemRefType vType = operandBufferType(op.getV());
  MemRefType oType = outputBufferType(op, spec);
  auto partialType = MemRefType::get({ShapedType::kDynamic},
                                     builder.getF32Type());
  SmallVector<Type> argTypes{qType, kType};
  if (!spec.valueFromKey)
    argTypes.push_back(vType);
  if (spec.lengths)
    argTypes.push_back(bufferType(op.getLengths().getType()));
  argTypes.push_back(oType);
  if (spec.lse)
    argTypes.push_back(bufferType(op.getLse().getType()));
  if (spec.decode)
    argTypes.append(2, partialType);
  std::optional<int64_t> counterSlots = counterCount(spec, qType);
  if (counterSlots)
    argTypes.push_back(MemRefType::get({*counterSlots}, builder.getI32Type()));
  if (rope) // the rotated copies, [B, H, N, D]
    argTypes.append({bufferType(op.getQ().getType()),
                     bufferType(op.getK().getType())});
  auto func = func::FuncOp::create(builder, loc, name,
                                    builder.getFunctionType(argTypes, {}));
  func.setPrivate();
  OpBuilder b = OpBuilder::atBlockEnd(func.addEntryBlock());
  ValueRange args = func.getArguments();
  Value q = args[0], k = args[1];
  unsigned next = 2;
  Value v = spec.valueFromKey ? Value() : args[next++];
  Value lengths = spec.lengths ? args[next++] : Value();
  Value o = args[next++];
  Value lse = spec.lse ? args[next++] : Value();
  Value oPartial = spec.decode ? args[next++] : Value();
  Value stats = spec.decode ? args[next++] : Value();
  Value counters = counterSlots ? args[next++] : Value();
  Value qRotated = rope ? args[next++] : Value();
  Value kRotated = rope ? args[next++] : Value();

  // Index constants, created once at the top of the launcher.
  FlashTiling tiling(spec);
  IndexConstants index(b, loc);
  for (int64_t value :
       {int64_t(0), int64_t(1), int64_t(2), FlashTiling::kChunk, tiling.blockN,
        spec.rowsPerHead(), spec.headsPerTile, spec.threads()})
    index(value);

  Value batch = dimOf(b, loc, q, 0, index);
  Value nq = dimOf(b, loc, q, 2, index);
  Value nk = dimOf(b, loc, k, 2, index);

  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  Value null = LLVM::ZeroOp::create(b, loc, ptrType);
  Value oPtr = pointerOf(b, loc, o);
  Value partialPtr = oPartial ? pointerOf(b, loc, oPartial) : null;
  Value statsPtr = stats ? pointerOf(b, loc, stats) : null;
  Value lengthsPtr = lengths ? pointerOf(b, loc, lengths) : null;
  Value countersPtr = counters ? pointerOf(b, loc, counters) : null;

  int64_t headTiles = qType.getDimSize(1) / spec.headsPerTile;
  IndexMath m(b, loc);
  SplitPlan plan = planSplits(m, spec, decode, fold(batch), fold(nq),
                              fold(nk), headTiles);
  Value smem =
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), tiling.request);
  gpu::KernelDim3 grid{m.value(m.mul(plan.qTiles, plan.splits)),
                       index(headTiles), batch};
  gpu::KernelDim3 block{index(spec.threads()), index(1), index(1)};
  FlashKernelArgs launchArgs;
  launchArgs.out = oPtr;
  launchArgs.oPartial = partialPtr;
  launchArgs.stats = statsPtr;
  launchArgs.lengths = lengthsPtr;
  launchArgs.nq = m.i32(fold(nq));
  launchArgs.nk = m.i32(fold(nk));
  launchArgs.tilesPerSplit = m.i32(plan.tilesPerSplit);
  launchArgs.counters = countersPtr; // null: the combine kernel merges
  launchArgs.lse = lse ? pointerOf(b, loc, lse) : Value();
  // Decode without counters: the combine kernel merges each row of the
  // output from its splits' partials.
  bool combines = spec.decode && !counters;
  gpu::KernelDim3 combineGrid, combineBlock;
  SmallVector<Value> combineArgs;
  if (combines) {
    OpFoldResult rows =
        m.mul(m.mul(fold(batch), m.c(qType.getDimSize(1))), fold(nq));
    OpFoldResult partials = plan.splits;
    combineGrid = {m.value(m.ceilDiv(rows, m.c(kCombineThreads / 32))),
                   index(1), index(1)};
    combineBlock = {index(kCombineThreads), index(1), index(1)};
    combineArgs = {partialPtr, statsPtr,
                   oPtr,       m.i32(rows),
                   m.i32(partials), m.i32(m.c(qType.getDimSize(1))),
                   m.i32(fold(nq))};
  }
  // Rope: q then k rotated into their scratch buffers.
  struct RopeLaunch {
    gpu::KernelDim3 grid;
    SmallVector<Value> args;
  };
  SmallVector<RopeLaunch> ropeLaunches;
  if (rope) {
    for (auto [src, dst, isQuery] :
         {std::make_tuple(q, qRotated, 1), std::make_tuple(k, kRotated, 0)}) {
      auto type = cast<MemRefType>(src.getType());
      Value n = dimOf(b, loc, src, 2, index);
      // Head and row strides of src (an identity or a transposed view).
      auto meta = memref::ExtractStridedMetadataOp::create(b, loc, src);
      ropeLaunches.push_back(
          {{m.value(m.ceilDiv(fold(n), m.c(kRopeRows))),
            index(type.getDimSize(1)), batch},
           {pointerOf(b, loc, src), pointerOf(b, loc, dst), lengthsPtr,
            m.i32(fold(n)), m.i32(fold(nq)), m.i32(fold(nk)),
            m.i32(m.c(isQuery)), m.i32(fold(meta.getStrides()[1])),
            m.i32(fold(meta.getStrides()[2]))}});
    }
  }
  gpu::KernelDim3 ropeBlock{index(128), index(1), index(1)};
  auto launch = [&](OpBuilder &lb) {
    // The tensor maps, only where the launch runs (a map of an empty dim
    // cannot be encoded); with a rope kernel the flash kernel reads the
    // rotated copies.
    launchArgs.tmapQ =
        createTensorMap(lb, loc, rope ? qRotated : q, spec.rowsPerHead(),
                        spec.headsPerTile, index);
    launchArgs.tmapK =
        createTensorMap(lb, loc, rope ? kRotated : k, tiling.blockN, 1, index);
    launchArgs.tmapV = v ? createTensorMap(lb, loc, v, tiling.blockN, 1, index)
                         : launchArgs.tmapK;
    SmallVector<Value> kernelArgs = launchArgs.pack(spec);
    for (RopeLaunch &r : ropeLaunches)
      gpu::LaunchFuncOp::create(lb, loc, rope, r.grid, ropeBlock,
                                /*dynamicSharedMemorySize=*/Value(), r.args);
    if (decode.dependentLaunch)
      func::CallOp::create(lb, loc, dependentNextFn(module), ValueRange{});
    gpu::LaunchFuncOp::create(lb, loc, kernel, grid, block, smem, kernelArgs);
    if (combines)
      gpu::LaunchFuncOp::create(lb, loc, combine, combineGrid, combineBlock,
                                /*dynamicSharedMemorySize=*/Value(),
                                combineArgs);
  };
  // A dynamic Nk of 0 (static: refused): no key, so every row is 0 and its
  // log-sum-exp -inf; filled by the runtime's memsets on the caller's stream.
  auto fillEmpty = [&](OpBuilder &fb) {
    auto fill = [&](Value buffer, int64_t bits, uint32_t pattern) {
      auto type = cast<MemRefType>(buffer.getType());
      Value count = index(1);
      for (int64_t d = 0; d < type.getRank(); ++d)
        count = arith::MulIOp::create(fb, loc, count,
                                      dimOf(fb, loc, buffer, d, index));
      Type valueType = fb.getIntegerType(bits);
      Value value = arith::ConstantIntOp::create(fb, loc, valueType, pattern);
      Value count64 =
          arith::IndexCastOp::create(fb, loc, fb.getI64Type(), count);
      Value noStream = LLVM::ZeroOp::create(fb, loc, ptrType);
      func::CallOp::create(
          fb, loc, memsetFn(module, bits),
          ValueRange{pointerOf(fb, loc, buffer), value, count64, noStream});
    };
    fill(o, 16, 0); // +0 in bf16 and f16
    if (lse)
      fill(lse, 32, 0xff800000u); // -inf in f32
  };
  bool staticNonEmpty = !qType.isDynamicDim(0) && !qType.isDynamicDim(2) &&
                        qType.getDimSize(0) > 0 && qType.getDimSize(2) > 0;
  auto positive = [&](OpBuilder &pb, Value x) {
    return arith::CmpIOp::create(pb, loc, arith::CmpIPredicate::ugt, x,
                                 index(0))
        .getResult();
  };
  // An empty grid is an invalid launch: skip it (nothing to compute).
  auto launchUnlessEmpty = [&](OpBuilder &lb) {
    if (staticNonEmpty) {
      launch(lb);
      return;
    }
    Value nonEmpty =
        arith::AndIOp::create(lb, loc, positive(lb, nq), positive(lb, batch));
    auto ifOp = scf::IfOp::create(lb, loc, nonEmpty, /*withElseRegion=*/false);
    OpBuilder tb = OpBuilder::atBlockBegin(ifOp.thenBlock());
    launch(tb);
  };
  if (!kType.isDynamicDim(2)) {
    launchUnlessEmpty(b);
  } else {
    auto ifOp =
        scf::IfOp::create(b, loc, positive(b, nk), /*withElseRegion=*/true);
    OpBuilder tb = OpBuilder::atBlockBegin(ifOp.thenBlock());
    launchUnlessEmpty(tb);
    OpBuilder eb = OpBuilder::atBlockBegin(ifOp.elseBlock());
    fillEmpty(eb);
  }
  func::ReturnOp::create(b, loc);
  return func;
}

void mlir::tucker::flash_to_gpu::replaceWithLaunch(
    RewriterBase &rewriter, FlashOp op, const FlashKernelSpec &spec,
    const LaunchOptions &decode, bool rotate, func::FuncOp launcher) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto toBuffer = [&](Value tensor) {
    return bufferization::ToBufferOp::create(rewriter, loc,
                                             bufferType(tensor.getType()),
                                             tensor, /*read_only=*/true)
        .getResult();
  };
  // An operand made by a heads transpose is passed as a strided view of the
  // transpose's input, a column slice as a view of its source: no copy.
  auto operandBuffer = [&](Value operand) -> Value {
    if (std::optional<SlicedOperand> s = slicedOperand(operand)) {
      Value view = columnSliceView(rewriter, loc, s->slice,
                                   toBuffer(s->slice.getSource()));
      if (!s->expand)
        return view;
      return memref::ExpandShapeOp::create(
          rewriter, loc, operandBufferType(operand), view,
          s->expand.getReassociationIndices(),
          s->expand.getMixedOutputShape());
    }
    linalg::TransposeOp transpose = headsTranspose(operand);
    if (!transpose)
      return toBuffer(operand);
    Value source = toBuffer(transpose.getInput());
    AffineMap perm = AffineMap::getPermutationMap(
        ArrayRef<unsigned>{0, 2, 1, 3}, rewriter.getContext());
    return memref::TransposeOp::create(
               rewriter, loc, operandBufferType(operand), source,
               AffineMapAttr::get(perm))
        .getResult();
  };
  SmallVector<Value> args{operandBuffer(op.getQ()), operandBuffer(op.getK())};
  if (!spec.valueFromKey)
    args.push_back(operandBuffer(op.getV()));
  if (spec.lengths)
    args.push_back(toBuffer(op.getLengths()));
  Value q = args.front();
  MemRefType oType = outputBufferType(op, spec);
  SmallVector<Value> dynamicSizes;
  for (int64_t dim = 0; dim < oType.getRank(); ++dim)
    if (oType.isDynamicDim(dim)) // B and Nq: q's dims 0 and 2
      dynamicSizes.push_back(memref::DimOp::create(
          rewriter, loc, q, dim == 0 ? 0 : 2));
  Value o = memref::AllocOp::create(rewriter, loc, oType, dynamicSizes);
  args.push_back(o);
  Value lse;
  if (spec.lse) { // [B, Hq, Nq]: its dims 0 and 2 are those of q
    MemRefType lseType = bufferType(op.getLse().getType());
    SmallVector<Value> lseSizes;
    for (int64_t dim : {0, 2})
      if (lseType.isDynamicDim(dim))
        lseSizes.push_back(memref::DimOp::create(rewriter, loc, q, dim));
    lse = memref::AllocOp::create(rewriter, loc, lseType, lseSizes);
    args.push_back(lse);
  }
  if (spec.decode) {
    // Partial results: f32 O and (max, sum) per output row and partial.
    IndexMath m(rewriter, loc);
    // Sizes from the buffers: the host code keeps no tensor ops.
    auto dim = [&](Value buffer, int64_t d) -> OpFoldResult {
      int64_t size = cast<MemRefType>(buffer.getType()).getDimSize(d);
      if (ShapedType::isDynamic(size))
        return memref::DimOp::create(rewriter, loc, buffer, d).getResult();
      return m.c(size);
    };
    int64_t heads = op.getQ().getType().getDimSize(1);
    OpFoldResult batch = dim(q, 0), nq = dim(q, 2);
    SplitPlan plan = planSplits(m, spec, decode, batch, nq, dim(args[1], 2),
                                heads / spec.headsPerTile);
    OpFoldResult slots =
        m.mul(m.mul(m.mul(batch, m.c(heads)), nq), plan.splits);
    auto dynamicType =
        MemRefType::get({ShapedType::kDynamic}, rewriter.getF32Type());
    for (int64_t width : {spec.valueDim, int64_t(2)}) {
      OpFoldResult size = m.mul(slots, m.c(width));
      Value buffer;
      if (std::optional<int64_t> n = getConstantIntValue(size)) {
        buffer = memref::AllocOp::create(
            rewriter, loc, MemRefType::get({*n}, rewriter.getF32Type()));
        buffer = memref::CastOp::create(rewriter, loc, dynamicType, buffer);
      } else {
        buffer = memref::AllocOp::create(rewriter, loc, dynamicType,
                                         ValueRange{m.value(size)});
      }
      args.push_back(buffer);
    }
    // Arrival counters: zero between calls (each launch leaves them so),
    // hence persistent: a workspace region of their own, zeroed once.
    if (std::optional<int64_t> count =
            counterCount(spec, cast<MemRefType>(q.getType()))) {
      auto counters = memref::AllocOp::create(
          rewriter, loc, MemRefType::get({*count}, rewriter.getI32Type()));
      counters->setAttr(TuckerDialect::PersistentAttrHelper::getNameStr(),
                        rewriter.getUnitAttr());
      args.push_back(counters);
    }
  }
  if (rotate) // scratch for the rotated q and k, [B, H, N, D]
    for (auto [buffer, tensor] : {std::make_pair(args[0], op.getQ()),
                                  std::make_pair(args[1], op.getK())}) {
      MemRefType type = bufferType(tensor.getType());
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          sizes.push_back(memref::DimOp::create(rewriter, loc, buffer, d));
      args.push_back(memref::AllocOp::create(rewriter, loc, type, sizes));
    }
  func::CallOp::create(rewriter, loc, launcher, args);
  SmallVector<Operation *> transposes;
  for (Value operand : {op.getQ(), op.getK(), op.getV()})
    if (linalg::TransposeOp transpose = headsTranspose(operand))
      transposes.push_back(transpose);
  linalg::TransposeOp after =
      spec.outputTransposed ? resultTranspose(op) : nullptr;
  Value result = bufferization::ToTensorOp::create(
      rewriter, loc,
      after ? after->getResult(0).getType() : op.getResult().getType(), o,
      /*restrict=*/true, /*writable=*/true);
  // Erases a transpose nothing reads any more, and its init tensor.
  auto eraseDead = [&](Operation *transpose) {
    if (!transpose->use_empty())
      return;
    Operation *init = transpose->getOperand(1).getDefiningOp();
    rewriter.eraseOp(transpose);
    if (init && isa<tensor::EmptyOp>(init) && init->use_empty())
      rewriter.eraseOp(init);
  };
  if (lse)
    rewriter.replaceAllUsesWith(op.getLse(),
                                bufferization::ToTensorOp::create(
                                    rewriter, loc, op.getLse().getType(), lse,
                                    /*restrict=*/true, /*writable=*/true));
  if (after) { // the kernel wrote the transposed output
    rewriter.replaceAllUsesWith(after->getResult(0), result);
    eraseDead(after);
    rewriter.eraseOp(op);
  } else {
    rewriter.replaceAllUsesWith(op.getResult(), result);
    rewriter.eraseOp(op);
  }
  for (Operation *transpose : transposes)
    eraseDead(transpose);
}

//===- FlashBackwardHost.cpp - Host side of the flash backward kernels ----===//
//
// The launcher that --tucker-flash-to-gpu emits for a tucker.flash_backward,
// and the replacement of the op on tensors by a call to it.
//
// Launcher ABI (docs/gpu-notes.md, "The backward"):
//
//   func.func private @tucker_flash_launch_<kernel>(
//       %q: memref<BxHqxNqxDqkxT>, %k: memref<BxHkvxNkxDqkxT>,
//       [%v: memref<BxHkvxNkxDvxT>,] %o: memref<BxHqxNqxDvxT>,
//       %lse: memref<BxHqxNqxf32>, %do: memref<BxHqxNqxDvxT>,
//       [%lengths: memref<Bxi32>,]
//       %dq: memref<BxHqxNqxDqkxT>, %dk: memref<BxHkvxNkxDqkxT>,
//       %dv: memref<BxHkvxNkxDvxT>,
//       %delta: memref<BxHqxNqxf32>, %dq_accum: memref<BxHqxNqxDqkxf32>
//       [, %counters: memref<BxHqxNqxi32>]
//       [, %dk_parts: memref<SxBxHkvxNkxDqkxf32>,
//          %dv_parts: memref<SxBxHkvxNkxDvxf32>])
//
// with identity-layout device buffers (no v when the kernel reads V from
// the K tile: v is columns of k); delta, dq_accum and, for an ordered
// dQ schedule, the counters are scratch the op site allocates (the
// workspace holds them), as are, with S = head_splits > 1, the f32
// partial dk and dv of the splits. On the caller's stream, in order:
//
//   1. `<kernel>_prep` (rows = B·Hq·Nq > 0): delta, and dq_accum and the
//      counters zeroed;
//   2. `<kernel>` (B, Hq·Nq and Nk > 0): tensor maps of q and do (box rows
//      kBackwardQueries) and of k and v (box rows kBackwardKeys), grid
//      (ceil(Nk / kBackwardKeys), Hkv, B), block 384; it writes dk and dv
//      and adds into dq_accum;
//   3. `<kernel>_finish` (rows > 0): dq = dq_accum · scale (zero when
//      Nk = 0: prep zeroed dq_accum and the main kernel did not run);
//      with head splits, where the main kernel ran, `<kernel>_sum_dk` and
//      `_sum_dv`: dk, dv = the partials summed over the splits in order
//      (dk times the scale);
//   4. without query rows (Hq·Nq = 0, B·Nk > 0) the main kernel, which
//      needs a tensor map of q, cannot run: `<kernel>_zero` writes dk and
//      dv instead, as the gradients of keys no query sees.
//
// A grid with a dynamic size runs under scf.if; one statically empty is not
// emitted. The tensor maps are built where the main kernel is launched
// (a tensor map of an empty dim cannot be encoded).
//
//===----------------------------------------------------------------------===//

#include "FlashBackwardAux.h"
#include "FlashBackwardKernel.h"
#include "FlashToGpu.h"
#include "HostUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

/// Elements a buffer of the kernels may have: they index in i32.
static constexpr int64_t kMaxElements = int64_t(1) << 31;

FailureOr<FlashKernelSpec>
mlir::tucker::flash_to_gpu::backwardSpecOf(FlashBackwardOp op,
                                           FlashBackwardScheduleAttr schedule) {
  auto refuse = [&](StringRef what) {
    op.emitOpError() << "with " << what
                     << " has no Hopper kernel yet; --tucker-cpu-pipeline "
                        "runs it";
    return failure();
  };
  auto fail = [&]() {
    return op.emitOpError() << "cannot run on the Hopper kernels: ";
  };
  auto qType = op.getQ().getType();
  auto kType = op.getK().getType();
  auto vType = op.getV().getType();
  Type element = qType.getElementType();
  FlashKernelSpec spec;
  if (element.isBF16()) {
    spec.element = FlashElement::BF16;
  } else if (element.isF16()) {
    spec.element = FlashElement::F16;
  } else {
    std::string what;
    llvm::raw_string_ostream(what) << "element type " << element;
    return refuse(what + " (the kernels take bf16 or f16)");
  }
  setCommonSpec(spec, op);
  std::string reason = unsupportedBackwardReason(spec);
  if (!reason.empty())
    return refuse(reason);
  if (schedule.getKeysPerTile() != kBackwardKeys ||
      schedule.getQueriesPerTile() != kBackwardQueries) {
    fail() << "the backward kernel runs " << kBackwardKeys
           << " keys per CTA and " << kBackwardQueries
           << " query rows per step, the schedule asks for "
           << schedule.getKeysPerTile() << " and "
           << schedule.getQueriesPerTile();
    return failure();
  }
  if (op.getDeterministic() && !schedule.getOrderedDq()) {
    fail() << "the op is deterministic, its schedule adds dQ by atomics "
              "(ordered_dq = false)";
    return failure();
  }
  spec.orderedDq = schedule.getOrderedDq();
  spec.headSplits = schedule.getHeadSplits();
  if (spec.groupSize % spec.headSplits) {
    fail() << "head_splits = " << spec.headSplits
           << " does not divide the group of " << spec.groupSize
           << " query heads per kv head";
    return failure();
  }
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"q", qType},
                            {"k", kType},
                            {"v", vType},
                            {"out", op.getOut().getType()}})
    if (type.hasStaticShape() && type.getNumElements() >= kMaxElements) {
      fail() << "'" << name << "' has " << type.getNumElements()
             << " elements; the kernels index fewer than 2^31";
      return failure();
    }
  return spec;
}

std::string
mlir::tucker::flash_to_gpu::backwardBaseName(const FlashKernelSpec &spec) {
  std::string name = spec.baseName(); // flash_fwd_...
  StringRef forward = "flash_fwd";
  if (StringRef(name).starts_with(forward))
    name = "flash_bwd" + name.substr(forward.size());
  return name;
}

namespace {

/// The f32 partials of a key gradient of `type` ([B, Hkv, Nk, D]) over
/// `splits` head splits: [splits, B, Hkv, Nk, D].
MemRefType partialsType(Type type, int64_t splits) {
  auto tensor = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape{splits};
  llvm::append_range(shape, tensor.getShape());
  return MemRefType::get(shape, Float32Type::get(type.getContext()));
}

/// The tensor operands the launcher takes, in order: q, k, v (not when the
/// kernel reads V from K), out, lse, out_grad.
SmallVector<Value> launchOperands(FlashBackwardOp op,
                                  const FlashKernelSpec &spec) {
  SmallVector<Value> operands{op.getQ(), op.getK()};
  if (!spec.valueFromKey)
    operands.push_back(op.getV());
  operands.append({op.getOut(), op.getLse(), op.getOutGrad()});
  return operands;
}

/// When a launch runs: every `positive` size > 0 and every `zero` size 0.
/// Never when a static size fails; always when all are static and hold;
/// else on the returned i1 of the dynamic ones.
struct LaunchCondition {
  bool never = false;
  Value dynamic;

  LaunchCondition(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> positive,
                  ArrayRef<OpFoldResult> zero,
                  llvm::function_ref<Value(int64_t)> index) {
    auto require = [&](OpFoldResult size, bool isPositive) {
      if (std::optional<int64_t> c = getConstantIntValue(size)) {
        never |= isPositive ? *c <= 0 : *c != 0;
        return;
      }
      Value test = arith::CmpIOp::create(b, loc,
                                         isPositive ? arith::CmpIPredicate::ugt
                                                    : arith::CmpIPredicate::eq,
                                         cast<Value>(size), index(0));
      dynamic = dynamic
                    ? arith::AndIOp::create(b, loc, dynamic, test).getResult()
                    : test;
    };
    for (OpFoldResult size : positive)
      require(size, true);
    for (OpFoldResult size : zero)
      require(size, false);
  }

  /// Emits `body` at `b` (under an scf.if when the condition is dynamic).
  void emit(OpBuilder &b, Location loc,
            llvm::function_ref<void(OpBuilder &)> body) const {
    if (never)
      return;
    if (!dynamic) {
      body(b);
      return;
    }
    auto ifOp = scf::IfOp::create(b, loc, dynamic, /*withElseRegion=*/false);
    OpBuilder tb = OpBuilder::atBlockBegin(ifOp.thenBlock());
    body(tb);
  }
};

} // namespace

func::FuncOp mlir::tucker::flash_to_gpu::buildBackwardLauncher(
    OpBuilder &builder, Location loc, ModuleOp module,
    const BackwardKernels &kernels, const FlashKernelSpec &spec,
    FlashBackwardOp op, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  MLIRContext *ctx = builder.getContext();
  auto qType = bufferType(op.getQ().getType());
  auto kType = bufferType(op.getK().getType());
  SmallVector<Type> argTypes;
  for (Value operand : launchOperands(op, spec))
    argTypes.push_back(bufferType(operand.getType()));
  if (spec.lengths)
    argTypes.push_back(bufferType(op.getLengths().getType()));
  for (Value result : op.getResults())
    argTypes.push_back(bufferType(result.getType()));
  Type f32 = builder.getF32Type();
  ArrayRef<int64_t> qShape = qType.getShape();
  argTypes.push_back(MemRefType::get(qShape.take_front(3), f32));
  argTypes.push_back(MemRefType::get(qShape, f32));
  if (spec.orderedDq)
    argTypes.push_back(
        MemRefType::get(qShape.take_front(3), builder.getI32Type()));
  if (spec.headSplits > 1)
    for (Value result : op.getResults().drop_front())
      argTypes.push_back(partialsType(result.getType(), spec.headSplits));
  auto func = func::FuncOp::create(builder, loc, name,
                                   builder.getFunctionType(argTypes, {}));
  func.setPrivate();
  OpBuilder b = OpBuilder::atBlockEnd(func.addEntryBlock());
  ValueRange params = func.getArguments();
  unsigned next = 0;
  Value q = params[next++], k = params[next++];
  Value v = spec.valueFromKey ? Value() : params[next++];
  Value o = params[next++], lse = params[next++], dO = params[next++];
  Value lengths = spec.lengths ? params[next++] : Value();
  Value dq = params[next++], dk = params[next++], dv = params[next++];
  Value delta = params[next++], dqAccum = params[next++];
  Value counters = spec.orderedDq ? params[next++] : Value();
  Value dkParts, dvParts;
  if (spec.headSplits > 1) {
    dkParts = params[next++];
    dvParts = params[next++];
  }

  // Index constants, created once at the top of the launcher.
  IndexConstants index(b, loc);
  IndexMath m(b, loc, index);
  int64_t heads = qType.getDimSize(1), kvHeads = kType.getDimSize(1);
  OpFoldResult batch = fold(dimOf(b, loc, q, 0, index));
  OpFoldResult nq = fold(dimOf(b, loc, q, 2, index));
  OpFoldResult nk = fold(dimOf(b, loc, k, 2, index));
  OpFoldResult queryRows = m.mul(m.c(heads), nq); // per batch entry
  OpFoldResult rows = m.mul(batch, queryRows);
  OpFoldResult keyRows = m.mul(m.mul(batch, m.c(kvHeads)), nk);

  // The kernels index q, k and v in i32 (static shapes: checked by
  // backwardSpecOf).
  for (auto [buffer, rowCount] :
       {std::pair<Value, OpFoldResult>{q, rows}, {k, keyRows}}) {
    auto type = cast<MemRefType>(buffer.getType());
    if (type.hasStaticShape())
      continue;
    int64_t width = std::max(type.getDimSize(3), spec.valueDim);
    Value elements = m.value(m.mul(rowCount, m.c(width)));
    Value fits = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                       elements, index(kMaxElements));
    cf::AssertOp::create(
        b, loc, fits,
        "tucker.flash_backward on the GPU needs fewer than 2^31 elements "
        "per operand");
  }

  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  Value null = LLVM::ZeroOp::create(b, loc, ptrType);
  Value oPtr = pointerOf(b, loc, o), dOPtr = pointerOf(b, loc, dO);
  Value lsePtr = pointerOf(b, loc, lse);
  Value deltaPtr = pointerOf(b, loc, delta);
  Value accPtr = pointerOf(b, loc, dqAccum);
  Value countersPtr = counters ? pointerOf(b, loc, counters) : null;
  Value dqPtr = pointerOf(b, loc, dq), dkPtr = pointerOf(b, loc, dk),
        dvPtr = pointerOf(b, loc, dv);
  // The main kernel's dk and dv: the gradients, or the splits' partials.
  Value keysOut = dkParts ? pointerOf(b, loc, dkParts) : dkPtr;
  Value valuesOut = dvParts ? pointerOf(b, loc, dvParts) : dvPtr;
  Value lengthsPtr = lengths ? pointerOf(b, loc, lengths) : null;
  gpu::KernelDim3 auxThreads{index(kBackwardAuxThreads), index(1), index(1)};

  // 1. prep: a warp per query row. (Every launch's grid and arguments are
  // computed ahead of its scf.if, where they dominate it.)
  LaunchCondition hasRows(b, loc, {rows}, {}, index);
  if (!hasRows.never) {
    gpu::KernelDim3 grid{m.value(m.ceilDiv(rows, m.c(kBackwardPrepRows))),
                         index(1), index(1)};
    SmallVector<Value> args{oPtr,   dOPtr,       deltaPtr,
                            accPtr, countersPtr, m.i32(rows)};
    hasRows.emit(b, loc, [&](OpBuilder &lb) {
      gpu::LaunchFuncOp::create(lb, loc, kernels.prep, grid, auxThreads,
                                /*dynamicSharedMemorySize=*/Value(), args);
    });
  }

  // 2. main: a CTA per (key tile, kv head, batch entry).
  LaunchCondition hasWork(b, loc, {batch, queryRows, nk}, {}, index);
  if (!hasWork.never) {
    gpu::KernelDim3 grid{m.value(m.ceilDiv(nk, m.c(kBackwardKeys))),
                         index(kvHeads * spec.headSplits), m.value(batch)};
    gpu::KernelDim3 block{index(384), index(1), index(1)};
    Value smem = arith::ConstantIntOp::create(b, loc, b.getI32Type(),
                                              flashBackwardSharedBytes(spec));
    Value nq32 = m.i32(nq), nk32 = m.i32(nk);
    hasWork.emit(b, loc, [&](OpBuilder &lb) {
      FlashBackwardArgs a;
      a.tmapQ = createTensorMap(lb, loc, q, kBackwardQueries, 1, index);
      a.tmapK = createTensorMap(lb, loc, k, kBackwardKeys, 1, index);
      a.tmapV =
          v ? createTensorMap(lb, loc, v, kBackwardKeys, 1, index) : a.tmapK;
      a.tmapDO = createTensorMap(lb, loc, dO, kBackwardQueries, 1, index);
      a.lse = lsePtr;
      a.delta = deltaPtr;
      a.dqAccum = accPtr;
      a.counters = countersPtr;
      a.dk = keysOut;
      a.dv = valuesOut;
      a.lengths = lengthsPtr;
      a.nq = nq32;
      a.nk = nk32;
      gpu::LaunchFuncOp::create(lb, loc, kernels.main, grid, block, smem,
                                a.pack());
    });
  }

  // 3. finish: dq from dq_accum.
  if (!hasRows.never) {
    OpFoldResult count = m.mul(rows, m.c(spec.qkDim));
    gpu::KernelDim3 grid{
        m.value(m.ceilDiv(count,
                          m.c(kBackwardAuxThreads * kBackwardFinishPerThread))),
        index(1), index(1)};
    SmallVector<Value> args{accPtr, dqPtr, m.i32(count)};
    hasRows.emit(b, loc, [&](OpBuilder &lb) {
      gpu::LaunchFuncOp::create(lb, loc, kernels.finish, grid, auxThreads,
                                /*dynamicSharedMemorySize=*/Value(), args);
    });
  }

  // With head splits, dk and dv from the partials, where the main kernel
  // wrote them.
  if (spec.headSplits > 1 && !hasWork.never) {
    struct Sum {
      gpu::GPUFuncOp kernel;
      Value gridX;
      SmallVector<Value> args;
    };
    SmallVector<Sum> sums;
    for (auto [kernel, parts, out, width] :
         {std::make_tuple(kernels.sumKeys, keysOut, dkPtr, spec.qkDim),
          std::make_tuple(kernels.sumValues, valuesOut, dvPtr,
                          spec.valueDim)}) {
      OpFoldResult count = m.mul(keyRows, m.c(width));
      sums.push_back({kernel,
                      m.value(m.ceilDiv(count, m.c(kBackwardAuxThreads *
                                                   kBackwardFinishPerThread))),
                      {parts, out, m.i32(count)}});
    }
    hasWork.emit(b, loc, [&](OpBuilder &lb) {
      for (Sum &sum : sums)
        gpu::LaunchFuncOp::create(
            lb, loc, sum.kernel, gpu::KernelDim3{sum.gridX, index(1), index(1)},
            auxThreads, /*dynamicSharedMemorySize=*/Value(), sum.args);
    });
  }

  // 4. no query row: dk and dv are zero (16-byte units of 16-bit elements).
  LaunchCondition keysOnly(b, loc, {keyRows}, {queryRows}, index);
  if (!keysOnly.never) {
    SmallVector<std::pair<Value, SmallVector<Value>>> launches;
    for (auto [buffer, width] : {std::make_pair(dkPtr, spec.qkDim),
                                 std::make_pair(dvPtr, spec.valueDim)}) {
      OpFoldResult units = m.ceilDiv(m.mul(keyRows, m.c(width)), m.c(8));
      launches.push_back({m.value(m.ceilDiv(units, m.c(kBackwardAuxThreads))),
                          {buffer, m.i32(units)}});
    }
    keysOnly.emit(b, loc, [&](OpBuilder &lb) {
      for (auto &[grid, args] : launches)
        gpu::LaunchFuncOp::create(lb, loc, kernels.zero,
                                  gpu::KernelDim3{grid, index(1), index(1)},
                                  auxThreads,
                                  /*dynamicSharedMemorySize=*/Value(), args);
    });
  }
  func::ReturnOp::create(b, loc);
  return func;
}

void mlir::tucker::flash_to_gpu::replaceBackwardWithLaunch(
    RewriterBase &rewriter, FlashBackwardOp op, const FlashKernelSpec &spec,
    func::FuncOp launcher) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto toBuffer = [&](Value tensor) {
    return bufferization::ToBufferOp::create(rewriter, loc,
                                             bufferType(tensor.getType()),
                                             tensor, /*read_only=*/true)
        .getResult();
  };
  SmallVector<Value> args;
  for (Value operand : launchOperands(op, spec))
    args.push_back(toBuffer(operand));
  if (Value lengths = op.getLengths())
    args.push_back(toBuffer(lengths));
  // A buffer of `type` whose dynamic dims are those of `like`.
  auto alloc = [&](MemRefType type, Value like) {
    SmallVector<Value> sizes;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (type.isDynamicDim(d))
        sizes.push_back(memref::DimOp::create(rewriter, loc, like, d));
    return memref::AllocOp::create(rewriter, loc, type, sizes).getResult();
  };
  // dv has the B, Hkv and Nk of k.
  Value q = args[0], k = args[1];
  SmallVector<Value> grads;
  SmallVector<Value> operands{q, k, k};
  for (auto [result, like] : llvm::zip(op.getResults(), operands))
    grads.push_back(alloc(bufferType(result.getType()), like));
  args.append(grads);
  // Scratch: delta [B, Hq, Nq] and dq_accum [B, Hq, Nq, Dqk], f32.
  auto qType = cast<MemRefType>(q.getType());
  Type f32 = rewriter.getF32Type();
  args.push_back(
      alloc(MemRefType::get(qType.getShape().take_front(3), f32), q));
  args.push_back(alloc(MemRefType::get(qType.getShape(), f32), q));
  if (spec.orderedDq) // [B, Hq, Nq] i32 counters
    args.push_back(alloc(
        MemRefType::get(qType.getShape().take_front(3), rewriter.getI32Type()),
        q));
  if (spec.headSplits > 1) { // [S, B, Hkv, Nk, D] f32 partials, dims of k
    for (Value result : op.getResults().drop_front()) {
      MemRefType type = partialsType(result.getType(), spec.headSplits);
      SmallVector<Value> sizes;
      for (int64_t d = 1; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          sizes.push_back(memref::DimOp::create(rewriter, loc, k, d - 1));
      args.push_back(memref::AllocOp::create(rewriter, loc, type, sizes));
    }
  }
  func::CallOp::create(rewriter, loc, launcher, args);
  SmallVector<Value> results;
  for (auto [result, buffer] : llvm::zip(op.getResults(), grads))
    results.push_back(bufferization::ToTensorOp::create(
        rewriter, loc, result.getType(), buffer, /*restrict=*/true,
        /*writable=*/true));
  rewriter.replaceOp(op, results);
}

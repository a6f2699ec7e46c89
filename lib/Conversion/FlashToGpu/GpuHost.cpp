//===- GpuHost.cpp - Host-side passes of the tucker GPU pipeline ----------===//
//
// Two passes of --tucker-gpu-pipeline around bufferization:
//  * --tucker-gpu-check-host (before it) refuses what has no GPU lowering:
//    tucker ops other than what the earlier passes lower, tensor ops that
//    would compute or read elements on the host, non-structured linalg ops;
//    and a binary format that needs a missing ptxas;
//  * --tucker-gpu-device-buffers (after it) places every device buffer a
//    host function allocates: static sizes as views into one workspace
//    argument of the function, with offsets planned at compile time and
//    regions reused once their last user is enqueued; dynamic sizes as
//    stream-ordered gpu.alloc / gpu.dealloc; persistent buffers (decode
//    counters) in regions nothing else uses; constants read through device
//    copies that the runtime uploads on first use.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "tucker/Conversion/CudaToolkit.h"
#include "tucker/Conversion/Passes.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERGPUCHECKHOSTPASS
#define GEN_PASS_DEF_TUCKERGPUDEVICEBUFFERSPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// tucker-gpu-check-host
//===----------------------------------------------------------------------===//

/// Math ops that lower to NVVM without libdevice.
static bool isNativeMath(Operation *op) {
  return isa<math::AbsFOp, math::FmaOp, math::SqrtOp, math::CopySignOp>(op);
}

/// Why `op`, outside every gpu.module, has no GPU lowering in the rest of
/// the pipeline, or nothing when it has one.
static std::optional<std::string> whyNotLowerable(Operation *op) {
  StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
  auto isTensor = [](Type t) { return isa<TensorType>(t); };
  bool onTensors = llvm::any_of(op->getOperandTypes(), isTensor) ||
                   llvm::any_of(op->getResultTypes(), isTensor);
  if (ns == "tucker")
    return std::string("has no GPU lowering (only tucker.flash, and "
                       "tucker.rope outside it, are lowered)");
  if (ns == "linalg" && !isa<linalg::LinalgOp>(op))
    return std::string("is not a structured linalg op (no GPU loop "
                       "lowering)");
  if (isa<linalg::LinalgOp>(op) && !onTensors)
    return std::string("works on buffers before bufferization (the GPU "
                       "pipeline takes linalg on tensors)");
  // Tensor constants are read through device copies
  // (--tucker-gpu-device-buffers).
  if (!onTensors || ns == "linalg" || ns == "func" || ns == "bufferization" ||
      isa<arith::ConstantOp>(op))
    return std::nullopt;
  // Shape ops that bufferize to views, allocations or copies.
  if (isa<tensor::EmptyOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
          tensor::ExtractSliceOp, tensor::InsertSliceOp, tensor::ConcatOp,
          tensor::CastOp, tensor::DimOp>(op))
    return std::nullopt;
  return std::string("would run on the host (no GPU lowering for it on "
                     "tensors)");
}

/// After --tucker-flash-to-gpu, --tucker-gemm-to-runtime and the lowering of
/// the other tucker ops: refuse what the GPU path cannot run, and a binary
/// format that needs ptxas when there is none.
struct TuckerGpuCheckHostPass
    : tucker::impl::TuckerGpuCheckHostPassBase<TuckerGpuCheckHostPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The serializer finds ptxas and libdevice in the toolkit directory.
    if (format != "isa")
      tucker::exportCudaToolkit();
    if (format != "isa" && !tucker::havePtxas()) {
      module.emitError() << "tucker-gpu-pipeline: format=" << format
                         << " needs ptxas (the CUDA toolkit), which was not "
                            "found ($CUDA_HOME/bin, /usr/local/cuda/bin, "
                            "$PATH); use format=isa (PTX, JIT-compiled by "
                            "the driver)";
      return signalPassFailure();
    }
    // Math functions of the kernels (an RMS norm's rsqrt, a rope table's
    // cos/sin) come from libdevice, which the serializer links only when it
    // knows the toolkit.
    Operation *math = nullptr;
    module.walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()) && !isNativeMath(op)) {
        math = op;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (math) {
      tucker::exportCudaToolkit();
      std::optional<std::string> toolkit = tucker::findCudaToolkit();
      if (!toolkit || !tucker::hasLibdevice(*toolkit)) {
        math->emitError()
            << "tucker-gpu-pipeline: '" << math->getName()
            << "' needs libdevice (nvvm/libdevice/"
               "libdevice.10.bc of a CUDA toolkit), which was "
               "not found ("
            << (toolkit ? *toolkit
                        : "no "
                          "$CUDA_ROOT, $CUDA_HOME, $CUDA_PATH, ptxas on "
                          "$PATH, /usr/local/cuda or /usr/lib/cuda")
            << "); set CUDA_HOME to the toolkit";
        return signalPassFailure();
      }
    }
    bool failed = false;
    module.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      std::optional<std::string> why = whyNotLowerable(op);
      if (!why) // a linalg op's body runs in its kernel
        return isa<linalg::LinalgOp>(op) ? WalkResult::skip()
                                         : WalkResult::advance();
      op->emitError() << "tucker-gpu-pipeline: '" << op->getName() << "' "
                      << *why;
      failed = true;
      return WalkResult::skip();
    });
    if (failed)
      signalPassFailure();
  }
};

//===----------------------------------------------------------------------===//
// tucker-gpu-device-buffers
//===----------------------------------------------------------------------===//

/// Workspace regions start at multiples of this (cuBLASLt's preferred
/// alignment; TMA needs 16 bytes).
constexpr int64_t kRegionAlignment = 256;

constexpr StringLiteral kWorkspaceAttr =
    tucker::TuckerDialect::WorkspaceBytesAttrHelper::getNameStr();
constexpr StringLiteral kDeviceConstantFn = "tuckerDeviceConstant";

/// A static allocation of a function and when it is in use: from its op to
/// the last op (of the function's top block) that reads or writes it
/// through any view.
struct Region {
  Operation *alloc; // memref.alloc, or a call whose callee has a workspace
  int64_t bytes = 0;
  bool persistent = false; // kept between calls: live for the whole function
  unsigned first = 0, last = 0;
  int64_t offset = 0;
};

/// What a function needs of its caller's workspace.
struct Need {
  int64_t bytes = 0;
  bool persistent = false; // holds a persistent region
};

/// The op of `block` that holds `op`.
static Operation *inBlock(Block *block, Operation *op) {
  return block->findAncestorOpInBlock(*op);
}

/// Index of the last op of `block` that uses `value` through views; the
/// block's end when an alias escapes in a way the analysis does not follow.
static unsigned lastUse(Block *block, Value value,
                        const llvm::DenseMap<Operation *, unsigned> &index) {
  unsigned last = 0;
  SmallVector<Value> work{value};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      Operation *top = inBlock(block, user);
      if (!top)
        return block->getOperations().size();
      last = std::max(last, index.lookup(top));
      bool isView =
          isa<ViewLikeOpInterface, memref::CastOp, memref::ExpandShapeOp,
              memref::CollapseShapeOp, memref::ReinterpretCastOp>(user);
      if (isView) {
        work.append(user->result_begin(), user->result_end());
        continue;
      }
      // Any other op returning a memref could alias it.
      if (llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>))
        return block->getOperations().size();
    }
  }
  return last;
}

/// Offsets for `regions`: largest first, each at the lowest aligned offset
/// that overlaps no placed region whose lifetime it shares. Returns the
/// total size.
static int64_t placeRegions(MutableArrayRef<Region> regions) {
  SmallVector<Region *> order;
  for (Region &r : regions)
    order.push_back(&r);
  llvm::stable_sort(order,
                    [](Region *x, Region *y) { return x->bytes > y->bytes; });
  SmallVector<Region *> placed;
  int64_t total = 0;
  for (Region *r : order) {
    SmallVector<std::pair<int64_t, int64_t>> busy; // [begin, end)
    for (Region *p : placed)
      if (p->first <= r->last && r->first <= p->last)
        busy.push_back({p->offset, p->offset + p->bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [begin, end] : busy) {
      if (offset + r->bytes <= begin)
        break;
      offset = std::max<int64_t>(offset, llvm::alignTo(end, kRegionAlignment));
    }
    r->offset = offset;
    total = std::max(total, offset + r->bytes);
    placed.push_back(r);
  }
  return static_cast<int64_t>(llvm::alignTo(total, kRegionAlignment));
}

/// Bytes of a static memref type as the LLVM lowering lays it out (every
/// element a whole number of bytes: i1 takes one).
static int64_t bytesOf(MemRefType type) {
  int64_t elementBytes = llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  return std::max<int64_t>(type.getNumElements() * elementBytes, 1);
}

/// A dynamic-size buffer: stream-ordered gpu.alloc, freed by gpu.dealloc
/// before the block's terminator (gpu-to-llvm lowers their async forms:
/// mgpuMemAlloc / mgpuMemFree on the caller's stream).
static void allocateOnDevice(memref::AllocOp alloc) {
  OpBuilder b(alloc);
  Location loc = alloc.getLoc();
  auto tokenType = gpu::AsyncTokenType::get(b.getContext());
  Value start =
      gpu::WaitOp::create(b, loc, tokenType, ValueRange()).getAsyncToken();
  auto device = gpu::AllocOp::create(
      b, loc, alloc.getType(), tokenType, ValueRange{start},
      alloc.getDynamicSizes(), alloc.getSymbolOperands(), /*hostShared=*/false);
  gpu::WaitOp::create(b, loc, Type(), ValueRange{device.getAsyncToken()});
  Value memref = device.getMemref();
  alloc.getResult().replaceAllUsesWith(memref);
  Block *block = alloc->getBlock();
  b.setInsertionPoint(block->getTerminator());
  Value freeStart =
      gpu::WaitOp::create(b, loc, tokenType, ValueRange()).getAsyncToken();
  auto free =
      gpu::DeallocOp::create(b, loc, tokenType, ValueRange{freeStart}, memref);
  gpu::WaitOp::create(b, loc, Type(), ValueRange{free.getAsyncToken()});
  alloc.erase();
}

/// The runtime's device copy of a constant:
///   tuckerDeviceConstant(host address, bytes, slot address) -> memref<?xi8>
/// (C interface: the result descriptor comes back through a pointer).
static func::FuncOp deviceConstantFn(ModuleOp module) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(kDeviceConstantFn))
    return fn;
  auto b = OpBuilder::atBlockEnd(module.getBody());
  Type i64 = b.getI64Type();
  auto result = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  auto fn = func::FuncOp::create(b, module.getLoc(), kDeviceConstantFn,
                                 b.getFunctionType({i64, i64, i64}, result));
  fn.setPrivate();
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return fn;
}

/// The address of a buffer as an i64.
static Value addressOf(OpBuilder &b, Location loc, Value memref) {
  Value index = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
  return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
}

/// Every read of a constant global by host code goes through its device
/// copy (the host global's address would reach a kernel or cuBLASLt);
/// reads of mutable globals are refused.
static LogicalResult readConstantsOnDevice(ModuleOp module) {
  SmallVector<memref::GetGlobalOp> reads;
  for (auto func : module.getOps<func::FuncOp>())
    func.walk([&](memref::GetGlobalOp get) { reads.push_back(get); });
  if (reads.empty())
    return success();
  SymbolTable symbols(module);
  func::FuncOp upload = deviceConstantFn(module);
  llvm::DenseMap<Operation *, memref::GlobalOp> slots;
  for (memref::GetGlobalOp get : reads) {
    // memref.get_global's verifier guarantees the symbol.
    auto global = symbols.lookup<memref::GlobalOp>(get.getName());
    if (!global.getConstant())
      return get.emitError("tucker-gpu-pipeline: @")
             << get.getName()
             << " is a mutable host global, which the GPU cannot read";
    MemRefType type = get.getType();
    if (!type.getLayout().isIdentity() || type.getMemorySpace())
      return get.emitError("tucker-gpu-pipeline: the constant @")
             << get.getName()
             << " needs an identity layout in the default memory space";
    memref::GlobalOp &slot = slots[global];
    if (!slot) {
      auto b = OpBuilder::atBlockEnd(module.getBody());
      auto slotType = MemRefType::get({1}, b.getI64Type());
      slot = memref::GlobalOp::create(
          b, global.getLoc(), (global.getSymName() + "_device").str(),
          b.getStringAttr("private"), slotType,
          DenseElementsAttr::get(RankedTensorType::get({1}, b.getI64Type()),
                                 b.getI64IntegerAttr(0)),
          /*constant=*/false, /*alignment=*/IntegerAttr());
      symbols.insert(slot); // renamed on a clash
    }
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : get->getUses())
      uses.push_back(&use);
    OpBuilder b(get);
    b.setInsertionPointAfter(get);
    Location loc = get.getLoc();
    Value slotRef = memref::GetGlobalOp::create(b, loc, slot.getType(),
                                                slot.getSymName());
    Value bytes = arith::ConstantIntOp::create(b, loc, b.getI64Type(),
                                               bytesOf(type));
    Value device =
        func::CallOp::create(
            b, loc, upload,
            ValueRange{addressOf(b, loc, get), bytes, addressOf(b, loc, slotRef)})
            .getResult(0);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value view =
        memref::ViewOp::create(b, loc, type, device, zero, ValueRange());
    for (OpOperand *use : uses)
      use->set(view);
  }
  return success();
}

struct TuckerGpuDeviceBuffersPass
    : tucker::impl::TuckerGpuDeviceBuffersPassBase<TuckerGpuDeviceBuffersPass> {
  using Base::Base;

  /// Places the buffers of `func` (its callees first); records its
  /// workspace in `need`. Fails with a diagnostic.
  LogicalResult place(func::FuncOp func, SymbolTable &symbols,
                      llvm::DenseMap<Operation *, Need> &need,
                      llvm::SmallPtrSetImpl<Operation *> &active) {
    if (need.count(func))
      return success();
    active.insert(func);
    Block &block = func.getBody().front();
    SmallVector<Region> regions;
    SmallVector<memref::AllocOp> dynamic;
    WalkResult walk = func.walk([&](Operation *op) -> WalkResult {
      if (auto call = dyn_cast<func::CallOp>(op)) {
        auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
        if (!callee || callee.isExternal())
          return WalkResult::advance();
        if (active.contains(callee)) {
          call.emitError("tucker-gpu-pipeline: recursive calls cannot share "
                         "a compile-time workspace");
          return WalkResult::interrupt();
        }
        if (failed(place(callee, symbols, need, active)))
          return WalkResult::interrupt();
        Need calleeNeed = need.lookup(callee);
        if (calleeNeed.bytes > 0)
          regions.push_back(
              {call, calleeNeed.bytes, calleeNeed.persistent});
        return WalkResult::advance();
      }
      if (isa<memref::AllocaOp>(op)) {
        op->emitError("tucker-gpu-pipeline: a stack buffer (memref.alloca) "
                      "lives in host memory, which the GPU cannot use");
        return WalkResult::interrupt();
      }
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (!alloc)
        return WalkResult::advance();
      for (Operation *user : alloc->getUsers())
        if (isa<func::ReturnOp>(user)) {
          alloc.emitError("tucker-gpu-pipeline: a device buffer escapes its "
                          "function (results should be out-params)");
          return WalkResult::interrupt();
        }
      // Static buffers of the top block go to the workspace; the rest
      // (dynamic sizes, or allocated in a loop or branch) to the device
      // allocator.
      MemRefType type = alloc.getType();
      bool placeable = type.hasStaticShape() && type.getLayout().isIdentity() &&
                       alloc->getBlock() == &block;
      bool persistent = alloc->hasAttr(
          tucker::TuckerDialect::PersistentAttrHelper::getNameStr());
      if (persistent && !placeable) {
        alloc.emitError("tucker-gpu-pipeline: a persistent buffer ('")
            << tucker::TuckerDialect::PersistentAttrHelper::getNameStr()
            << "') needs a static size, an identity layout and the "
               "function's top block (it has a fixed workspace region)";
        return WalkResult::interrupt();
      }
      if (placeable)
        regions.push_back({alloc, bytesOf(type), persistent});
      else
        dynamic.push_back(alloc);
      return WalkResult::advance();
    });
    active.erase(func);
    if (walk.wasInterrupted())
      return failure();

    // Their host deallocations go: the workspace outlives the call, dynamic
    // buffers get a gpu.dealloc.
    llvm::SmallPtrSet<Value, 8> placedValues;
    for (Region &r : regions)
      if (isa<memref::AllocOp>(r.alloc))
        placedValues.insert(r.alloc->getResult(0));
    for (memref::AllocOp alloc : dynamic)
      placedValues.insert(alloc.getResult());
    func.walk([&](memref::DeallocOp dealloc) {
      if (placedValues.contains(dealloc.getMemref()))
        dealloc.erase();
    });
    for (memref::AllocOp alloc : dynamic)
      allocateOnDevice(alloc);

    llvm::DenseMap<Operation *, unsigned> index;
    for (auto [i, op] : llvm::enumerate(block))
      index[&op] = i;
    for (Region &r : regions) {
      if (r.persistent) { // shares its bytes with nothing
        r.first = 0;
        r.last = block.getOperations().size();
        continue;
      }
      Operation *top = inBlock(&block, r.alloc);
      r.first = index.lookup(top);
      r.last = isa<memref::AllocOp>(r.alloc)
                   ? std::max(r.first, lastUse(&block, r.alloc->getResult(0),
                                               index))
                   : r.first; // a callee's workspace: during the call
    }
    int64_t total = placeRegions(regions);
    need[func] = {total, llvm::any_of(regions, [](const Region &r) {
                    return r.persistent;
                  })};
    if (total == 0)
      return success();

    // The workspace: a trailing memref<total x i8> argument.
    MLIRContext *ctx = func.getContext();
    auto type = MemRefType::get({total}, IntegerType::get(ctx, 8));
    if (failed(func.insertArgument(func.getNumArguments(), type,
                                   DictionaryAttr(), func.getLoc())))
      return func.emitError("tucker-gpu-pipeline: cannot add the workspace "
                            "argument");
    Value workspace = func.getArgument(func.getNumArguments() - 1);
    func->setAttr(kWorkspaceAttr,
                  IntegerAttr::get(IntegerType::get(ctx, 64), total));
    OpBuilder b = OpBuilder::atBlockBegin(&block);
    Location loc = func.getLoc();
    // Its base must keep every region aligned (cuBLASLt, vector accesses).
    Value base =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, workspace);
    Value rem = arith::RemUIOp::create(
        b, loc, base, arith::ConstantIndexOp::create(b, loc, kRegionAlignment));
    Value aligned =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rem,
                              arith::ConstantIndexOp::create(b, loc, 0));
    cf::AssertOp::create(b, loc, aligned,
                         "tucker: the workspace must be 256-byte aligned");
    for (Region &r : regions) {
      b.setInsertionPoint(r.alloc);
      Value offset =
          arith::ConstantIndexOp::create(b, r.alloc->getLoc(), r.offset);
      if (auto alloc = dyn_cast<memref::AllocOp>(r.alloc)) {
        Value view = memref::ViewOp::create(b, alloc.getLoc(), alloc.getType(),
                                            workspace, offset, ValueRange());
        alloc.getResult().replaceAllUsesWith(view);
        alloc.erase();
        continue;
      }
      // A callee's workspace: a slice of ours, as its trailing argument.
      auto call = cast<func::CallOp>(r.alloc);
      auto sliceType = MemRefType::get({r.bytes}, IntegerType::get(ctx, 8));
      Value slice = memref::ViewOp::create(b, call.getLoc(), sliceType,
                                           workspace, offset, ValueRange());
      call->insertOperands(call->getNumOperands(), slice);
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    if (failed(readConstantsOnDevice(module)))
      return signalPassFailure();
    llvm::DenseMap<Operation *, Need> need;
    llvm::SmallPtrSet<Operation *, 8> active;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && failed(place(func, symbols, need, active)))
        return signalPassFailure();
  }
};

} // namespace

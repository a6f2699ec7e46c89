//===- GpuHost.cpp - Host-side passes of the tucker GPU pipeline ----------===//
//
// Two passes --tucker-gpu-pipeline runs after --tucker-flash-to-gpu:
//  * --tucker-gpu-check-host refuses what would be left to run on the host
//    (linalg on tensors, tucker ops other than the flash: the whole-layer GPU
//    path is not there yet) and a binary format that needs a missing ptxas;
//  * --tucker-gpu-device-buffers turns the flash outputs that bufferization
//    left as host allocations (intermediate results, not out-params) into
//    gpu.alloc, freed with gpu.dealloc at the end of their block.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "tucker/Conversion/Passes.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERGPUCHECKHOSTPASS
#define GEN_PASS_DEF_TUCKERGPUDEVICEBUFFERSPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

/// Whether ptxas can be found: $CUDA_HOME/bin, /usr/local/cuda/bin, $PATH.
static bool havePtxas() {
  llvm::SmallVector<std::string, 3> dirs;
  if (const char *home = std::getenv("CUDA_HOME"))
    dirs.push_back(std::string(home) + "/bin/ptxas");
  dirs.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &path : dirs)
    if (llvm::sys::fs::can_execute(path))
      return true;
  return static_cast<bool>(llvm::sys::findProgramByName("ptxas"));
}

/// After --tucker-flash-to-gpu: refuse what the GPU path cannot run yet
/// (host-side linalg on tensors, tucker ops other than the flash), and a
/// binary format that needs ptxas when there is none.
struct TuckerGpuCheckHostPass
    : tucker::impl::TuckerGpuCheckHostPassBase<TuckerGpuCheckHostPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (format != "isa" && !havePtxas()) {
      module.emitError() << "tucker-gpu-pipeline: format=" << format
                         << " needs ptxas (the CUDA toolkit), which was not "
                            "found ($CUDA_HOME/bin, /usr/local/cuda/bin, "
                            "$PATH); use format=isa (PTX, JIT-compiled by "
                            "the driver)";
      return signalPassFailure();
    }
    bool failed = false;
    module.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp>(op))
        return WalkResult::skip();
      StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
      auto isTensor = [](Type t) { return isa<TensorType>(t); };
      bool onTensors = llvm::any_of(op->getOperandTypes(), isTensor) ||
                       llvm::any_of(op->getResultTypes(), isTensor);
      if (ns == "linalg" || ns == "tucker" ||
          (onTensors && ns != "func" && ns != "bufferization")) {
        op->emitError()
            << "tucker-gpu-pipeline: '" << op->getName()
            << "' would run on the host: the whole-layer GPU path is not "
               "there yet (only modules whose tucker ops become tucker.flash "
               "are supported; use --tucker-cpu-pipeline for the rest)";
        failed = true;
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

/// Flash outputs that did not become out-params: memref.alloc → gpu.alloc
/// (device memory), freed with gpu.dealloc before the block's terminator.
struct TuckerGpuDeviceBuffersPass
    : tucker::impl::TuckerGpuDeviceBuffersPassBase<TuckerGpuDeviceBuffersPass> {
  using Base::Base;

  static bool feedsLauncher(Value value) {
    for (Operation *user : value.getUsers()) {
      if (auto call = dyn_cast<func::CallOp>(user))
        if (call.getCallee().starts_with("tucker_flash_launch_"))
          return true;
      if (isa<memref::CastOp>(user) && feedsLauncher(user->getResult(0)))
        return true;
    }
    return false;
  }

  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk([&](memref::AllocOp alloc) {
      if (feedsLauncher(alloc.getResult()))
        allocs.push_back(alloc);
    });
    for (memref::AllocOp alloc : allocs) {
      for (Operation *user : alloc->getUsers())
        if (isa<func::ReturnOp>(user)) {
          alloc.emitError("tucker-gpu-pipeline: a device buffer escapes its "
                          "function (results should be out-params)");
          return signalPassFailure();
        }
      // gpu-to-llvm lowers gpu.alloc/dealloc (not host-shared) only in
      // their async form with one dependency: each on its own stream
      // (mgpuStreamCreate), waited for (mgpuStreamSynchronize/Destroy).
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      auto tokenType = gpu::AsyncTokenType::get(b.getContext());
      Value start =
          gpu::WaitOp::create(b, loc, tokenType, ValueRange()).getAsyncToken();
      auto device = gpu::AllocOp::create(
          b, loc, alloc.getType(), tokenType, ValueRange{start},
          alloc.getDynamicSizes(), alloc.getSymbolOperands(),
          /*hostShared=*/false);
      gpu::WaitOp::create(b, loc, Type(), ValueRange{device.getAsyncToken()});
      Value memref = device.getMemref();
      alloc.getResult().replaceAllUsesWith(memref);
      // Drop the host deallocations, free on the device at the block's end.
      for (Operation *user : llvm::make_early_inc_range(memref.getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
      Block *block = alloc->getBlock();
      b.setInsertionPoint(block->getTerminator());
      Value freeStart =
          gpu::WaitOp::create(b, loc, tokenType, ValueRange()).getAsyncToken();
      auto free = gpu::DeallocOp::create(b, loc, tokenType,
                                         ValueRange{freeStart}, memref);
      gpu::WaitOp::create(b, loc, Type(), ValueRange{free.getAsyncToken()});
      alloc.erase();
    }
  }
};

} // namespace

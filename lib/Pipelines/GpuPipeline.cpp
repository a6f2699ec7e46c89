//===- GpuPipeline.cpp - The tucker GPU pass pipeline ---------------------===//
//
// --tucker-gpu-pipeline: tucker ops → tucker.flash → the generated Hopper
// kernel (--tucker-flash-to-gpu) + its host launcher → bufferized host code
// with device output buffers → the upstream NVVM lowering: a gpu.binary
// (PTX, cubin or fatbin) and LLVM-dialect host code that calls the mgpu*
// runtime functions (lib/Runtime/MgpuShim.cpp).
//
// Scope: only modules whose tucker ops end as tucker.flash run here. Anything
// else left on the host after --tucker-flash-to-gpu (the linalg projections of
// a tucker.mha, tucker.rope that did not fuse, ...) is refused with a
// diagnostic: the whole-layer GPU path is not there yet.
//
// Buffers: function boundaries bufferize to identity-layout memrefs, and every
// result becomes a caller-allocated out-param (for tucker-compile: a device
// pointer). The op site of --tucker-flash-to-gpu allocates the flash output
// with memref.alloc; when that allocation is not hoisted into an out-param
// (an intermediate flash output), tucker-gpu-device-buffers turns it into
// gpu.alloc with a gpu.dealloc at the end of its block.
//
//===----------------------------------------------------------------------===//

#include "tucker/Pipelines/Pipelines.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

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
    : public PassWrapper<TuckerGpuCheckHostPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TuckerGpuCheckHostPass)
  TuckerGpuCheckHostPass() = default;
  TuckerGpuCheckHostPass(const TuckerGpuCheckHostPass &other)
      : PassWrapper(other) {}
  explicit TuckerGpuCheckHostPass(StringRef format) { this->format = format.str(); }

  StringRef getArgument() const override { return "tucker-gpu-check-host"; }
  StringRef getDescription() const override {
    return "Refuse host code the tucker GPU pipeline cannot run yet";
  }

  Option<std::string> format{*this, "format",
                             llvm::cl::desc("gpu.binary format (isa|bin|fatbin)"),
                             llvm::cl::init("isa")};

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
    : public PassWrapper<TuckerGpuDeviceBuffersPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TuckerGpuDeviceBuffersPass)

  StringRef getArgument() const override { return "tucker-gpu-device-buffers"; }
  StringRef getDescription() const override {
    return "Allocate the flash launchers' buffers in device memory";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect>();
  }

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

void tucker::buildTuckerGpuPipeline(OpPassManager &pm,
                                    const TuckerGpuPipelineOptions &options) {
  // The tucker stage: model ops to tucker.flash, then the generated kernel
  // and its launcher.
  pm.addPass(createTuckerLiftPass());
  pm.addPass(createTuckerFoldPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createTuckerFuseRopePass());
  TuckerFlashToGpuPassOptions flash;
  flash.chip = options.chip;
  flash.pingPong = options.pingPong;
  flash.headsPerTile = options.headsPerTile;
  pm.addPass(createTuckerFlashToGpuPass(flash));
  pm.addPass(std::make_unique<TuckerGpuCheckHostPass>(options.format));

  // Host code to buffers: identity layouts at function boundaries, results
  // as caller-allocated out-params (device pointers), the remaining flash
  // outputs in device memory.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.hoistDynamicAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(std::make_unique<TuckerGpuDeviceBuffersPass>());
  pm.addPass(createCanonicalizerPass());

  // The upstream NVVM lowering: kernel → gpu.binary, host → LLVM + mgpu*.
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip.getValue() == "sm_90" ? std::string("sm_90a")
                                                      : options.chip.getValue();
  nvvm.cubinFeatures = "+ptx80";
  nvvm.cubinFormat = options.format.getValue();
  nvvm.optLevel = options.optLevel.getValue();
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}

void tucker::registerTuckerGpuPipeline() {
  PassPipelineRegistration<TuckerGpuPipelineOptions>(
      "tucker-gpu-pipeline",
      "Lower a module whose tucker ops become tucker.flash to a gpu.binary "
      "(generated Hopper kernel) and LLVM host code calling the mgpu* "
      "runtime: lift, fold, fuse-rope, flash-to-gpu, one-shot bufferization "
      "with out-params, device buffers, gpu-lower-to-nvvm-pipeline",
      buildTuckerGpuPipeline);
}

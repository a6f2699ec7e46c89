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

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

using namespace mlir;

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
  flash.decode = options.decode;
  flash.kvSplits = options.kvSplits;
  flash.smCount = options.smCount;
  flash.ropeKernel = options.ropeKernel;
  pm.addPass(createTuckerFlashToGpuPass(flash));
  TuckerGpuCheckHostPassOptions check;
  check.format = options.format;
  pm.addPass(createTuckerGpuCheckHostPass(check));

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
  pm.addPass(createTuckerGpuDeviceBuffersPass());
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

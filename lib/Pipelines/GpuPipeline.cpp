//===- GpuPipeline.cpp - The tucker GPU pass pipeline ---------------------===//
//
// --tucker-gpu-pipeline: a whole layer (tucker.mha / gqa / mla / attention,
// or tucker.flash with linalg around it) to a gpu.binary and LLVM host code
// that calls the project's runtime (lib/Runtime: the mgpu* functions and
// tuckerGemm). docs/gpu-layer.md explains the choices.
//
//  1. tucker stage: lift, fold, fuse-rope;
//  2. GEMM-shaped contractions (projections, query cores, output fold)
//     become cuBLASLt calls with their casts and biases absorbed
//     (--tucker-gemm-to-runtime); every tucker.flash gets its schedule
//     (--tucker-gpu-configure) and becomes a generated Hopper kernel and
//     its launcher (--tucker-flash-to-gpu), which reads
//     head-transposed operands and writes a head-transposed output in place;
//  3. the rest (norms, biases, rope not fused into a flash, casts,
//     transposes) as linalg on tensors: tucker.rope lowered to linalg,
//     named ops generalized, elementwise producers fused into their
//     consumers (upstream linalg elementwise fusion), checked
//     (--tucker-gpu-check-host);
//  4. one-shot bufferization with results as out-params; every device
//     buffer a view into one workspace argument (--tucker-gpu-device-buffers);
//  5. linalg on buffers to collapsed, tiled scf.parallel nests
//     (--tucker-gpu-map-loops), mapped to blocks and threads and made
//     kernels by upstream passes (gpu-map-parallel-loops,
//     convert-parallel-loops-to-gpu);
//  6. the upstream NVVM lowering (kernel outlining, gpu.binary, host LLVM).
//
//===----------------------------------------------------------------------===//

#include "tucker/Pipelines/Pipelines.h"

#include "mlir/Conversion/SCFToGPU/SCFToGPUPass.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"
#include "tucker/Transforms/Passes.h"

using namespace mlir;

void tucker::buildTuckerGpuPipeline(OpPassManager &pm,
                                    const TuckerGpuPipelineOptions &options) {
  // The tucker stage: model ops to tucker.flash, then the generated kernel
  // and its launcher.
  pm.addPass(createTuckerLiftPass());
  pm.addPass(createTuckerShrinkRanksPass());
  pm.addPass(createTuckerFoldPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createTuckerFuseRopePass());
  // Products that read one tensor (a layer's projections of x) as one,
  // read in place through column slices by the two lowerings after it.
  pm.addPass(createTuckerMergeProductsPass());
  // Dense products through the runtime's cuBLASLt call, first: a transpose
  // it puts on a flash output (for the output fold) is then folded into the
  // flash kernel's store by --tucker-flash-to-gpu.
  pm.addPass(createTuckerGemmToRuntimePass());
  // Every schedule choice, once per flash, then the kernels from it.
  TuckerGpuConfigurePassOptions configure;
  configure.chip = options.chip;
  configure.pingPong = options.pingPong;
  configure.headsPerTile = options.headsPerTile;
  configure.decode = options.decode;
  configure.kvSplits = options.kvSplits;
  configure.smCount = options.smCount;
  configure.ropeKernel = options.ropeKernel;
  configure.keysPerTile = options.keysPerTile;
  configure.consumerWarpgroups = options.consumerWarpgroups;
  pm.addPass(createTuckerGpuConfigurePass(configure));
  pm.addPass(createTuckerFlashToGpuPass());

  // The rest as fused linalg on tensors (a tucker.rope left outside every
  // flash lowered to it).
  pm.addPass(createTuckerFlashToLinalgPass());
  pm.addPass(createTuckerDecomposeAggregatesPass());
  pm.addPass(createConvertElementwiseToLinalgPass());
  LinalgMorphOpsPassOptions generalize;
  generalize.namedToGeneric = true;
  pm.addPass(createLinalgMorphOpsPass(generalize));
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  TuckerGpuCheckHostPassOptions check;
  check.format = options.format;
  pm.addPass(createTuckerGpuCheckHostPass(check));

  // Host code to buffers: identity layouts at function boundaries, results
  // as caller-allocated out-params (device pointers), every other buffer in
  // the workspace.
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

  // Elementwise kernels: one thread per element of each fused op.
  pm.addPass(createTuckerGpuMapLoopsPass());
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createCanonicalizerPass());

  // The upstream NVVM lowering: kernel → gpu.binary, host → LLVM + mgpu*.
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip.getValue() == "sm_90" ? std::string("sm_90a")
                                                      : options.chip.getValue();
  nvvm.cubinFeatures = "+ptx80";
  nvvm.cubinFormat = options.format.getValue();
  nvvm.optLevel = options.optLevel.getValue();
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
  TuckerVerifyLoweredPassOptions verify;
  verify.allowGpu = true;
  pm.addPass(createTuckerVerifyLoweredPass(verify));
}

void tucker::registerTuckerGpuPipeline() {
  PassPipelineRegistration<TuckerGpuPipelineOptions>(
      "tucker-gpu-pipeline",
      "Lower a whole layer to a gpu.binary and LLVM host code calling the "
      "project's runtime: lift, fold, fuse-rope, flash-to-gpu (Hopper "
      "kernels), gemm-to-runtime (cuBLASLt), fused elementwise kernels, "
      "one-shot bufferization with out-params, one workspace for the device "
      "buffers, gpu-lower-to-nvvm-pipeline",
      buildTuckerGpuPipeline);
}

//===- Pipelines.cpp - Tucker pass pipelines ------------------------------===//
//
// --tucker-cpu-pipeline: tucker ops → linalg on tensors → buffers → loops →
// the LLVM dialect. Only the order and the options are ours; every step is an
// upstream pass or one of the tucker passes.
//
//===----------------------------------------------------------------------===//

#include "tucker/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"
#include "tucker/Transforms/Passes.h"

using namespace mlir;

static void addCleanups(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void tucker::buildTuckerToLinalgPipeline(
    OpPassManager &pm, const TuckerCpuPipelineOptions &options) {
  if (options.tuckerStage) {
    // Model ops to the Tucker form, then to projections + tucker.flash.
    pm.addPass(createTuckerLiftPass());
    pm.addPass(createTuckerShrinkRanksPass());
    TuckerFoldPassOptions fold;
    fold.queryForm = options.queryForm;
    fold.outputForm = options.outputForm;
    pm.addPass(createTuckerFoldPass(fold));
    addCleanups(pm);
    // RoPE producers into the flash's rope attribute, then the flash (and
    // any tucker.rope left) to tiled online-softmax loops of linalg ops.
    pm.addPass(createTuckerFuseRopePass());
    TuckerFlashToLinalgPassOptions flash;
    flash.queryTile = options.queryTile;
    flash.keyTile = options.keyTile;
    pm.addPass(createTuckerFlashToLinalgPass(flash));
  }
  // Calls inside the module go away (a caller could not allocate a
  // dynamically shaped result for buffer-results-to-out-params); the public
  // functions stay as entry points.
  if (options.inlineCalls)
    pm.addPass(createInlinerPass());
  // Elementwise arith/math on whole tensors (as frontends write it) is not
  // bufferizable: make it linalg.generic.
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  // linalg.softmax (as frontends emit attention) to structured ops.
  funcPm.addPass(createTuckerDecomposeAggregatesPass());
  funcPm.addPass(createConvertElementwiseToLinalgPass());
  // Linalg on tensors: merge elementwise chains (fusion works on generic
  // ops; on the CPU path named ops become the same loops anyway), then fold
  // what fusion left.
  if (options.fuseElementwise) {
    funcPm.addPass(createLinalgGeneralizeNamedOpsPass());
    funcPm.addPass(createLinalgElementwiseOpFusionPass());
  }
  addCleanups(pm);
}

void tucker::buildTuckerCpuLoweringPipeline(
    OpPassManager &pm, const TuckerCpuPipelineOptions &options) {
  // Tensors to buffers. Function boundaries bufferize to identity-layout
  // memrefs (the C ABI takes contiguous row-major arrays), and every result
  // becomes an out-param that the caller allocates; hoisting the result
  // allocations writes straight into it instead of allocating and copying
  // (for dynamic shapes too, where the sizes come from the arguments).
  pm.addNestedPass<func::FuncOp>(
      bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // The flash loops carry their accumulators through scf.for; a yielded
  // tile may be a fresh buffer, which the deallocation pipeline then owns.
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.hoistDynamicAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  addCleanups(pm);
  if (options.hoistLoopBuffers)
    pm.addNestedPass<func::FuncOp>(
        bufferization::createBufferLoopHoistingPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Linalg on buffers to register-tiled vector code (products as FMA
  // kernels, elementwise ops and reductions on whole vectors); what it
  // leaves to loops, and the loops to the LLVM dialect (vector ops, as
  // vector.print in tests, included).
  OpPassManager &loopsPm = pm.nest<func::FuncOp>();
  if (options.vectorize) {
    TuckerCpuVectorizePassOptions vectorize;
    vectorize.vectorBits = options.vectorBits;
    loopsPm.addPass(createTuckerCpuVectorizePass(vectorize));
  }
  loopsPm.addPass(createConvertVectorToSCFPass());
  loopsPm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  addCleanups(pm);
  // Row sums of whole vectors as trees of adds (an ordered reduction would
  // be a chain of dependent scalar adds).
  ConvertVectorToLLVMPassOptions vectorToLlvm;
  vectorToLlvm.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLlvm));
  // bf16 <-> f32 as integer ops (the host's libgcc lacks __truncsfbf2); math
  // on f16/bf16 computed in f32.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(math::createMathExtendToSupportedTypes());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  addCleanups(pm);
  pm.addPass(createTuckerVerifyLoweredPass());
}

void tucker::buildTuckerCpuPipeline(OpPassManager &pm,
                                    const TuckerCpuPipelineOptions &options) {
  buildTuckerToLinalgPipeline(pm, options);
  buildTuckerCpuLoweringPipeline(pm, options);
}

void tucker::registerTuckerPipelines() {
  PassPipelineRegistration<TuckerCpuPipelineOptions>(
      "tucker-cpu-pipeline",
      "Lower tucker ops (or linalg on tensors) to the LLVM dialect for the "
      "host CPU: lift, fold, fuse-rope, flash-to-linalg, one-shot "
      "bufferization with out-params, deallocation, loops, LLVM",
      buildTuckerCpuPipeline);
  registerTuckerGpuPipeline();
}

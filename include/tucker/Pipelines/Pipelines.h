//===- Pipelines.h - Tucker pass pipelines ----------------------*- C++ -*-===//
//
// The named pipelines of DESIGN.md §3. `--tucker-cpu-pipeline` takes a module
// with tucker ops (or linalg on tensors) down to the LLVM dialect for the host
// CPU; tucker-compile builds the same pipeline through
// buildTuckerCpuPipeline().
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_PIPELINES_PIPELINES_H
#define TUCKER_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
namespace tucker {

/// Options of --tucker-cpu-pipeline.
struct TuckerCpuPipelineOptions
    : public PassPipelineOptions<TuckerCpuPipelineOptions> {
  PassOptions::Option<bool> tuckerStage{
      *this, "tucker-stage",
      llvm::cl::desc(
          "Run the tucker stage (tucker-lift, tucker-fold, tucker-fuse-rope, "
          "tucker-flash-to-linalg). Turn it off for input that is already "
          "linalg on tensors; tucker-compile does so by itself when the "
          "module holds no tucker op"),
      llvm::cl::init(true)};
  PassOptions::Option<FoldForm> queryForm{
      *this, "query-form",
      llvm::cl::desc("tucker-fold: query projection of dense cores"),
      llvm::cl::init(FoldForm::Auto),
      llvm::cl::values(
          clEnumValN(FoldForm::Auto, "auto", "fewest FLOPs"),
          clEnumValN(FoldForm::Absorbed, "absorbed", "x·(U2·G_i)"),
          clEnumValN(FoldForm::TwoStep, "two-step", "(x·U2)·G_i"))};
  PassOptions::Option<FoldForm> outputForm{
      *this, "output-form",
      llvm::cl::desc("tucker-fold: output fold of dense cores"),
      llvm::cl::init(FoldForm::Auto),
      llvm::cl::values(
          clEnumValN(FoldForm::Auto, "auto", "fewest FLOPs"),
          clEnumValN(FoldForm::Absorbed, "absorbed", "o_i·(Ũ2·G̃_i)ᵀ"),
          clEnumValN(FoldForm::TwoStep, "two-step", "Ũ2·(G̃_i·o_i)"))};
  PassOptions::Option<int64_t> queryTile{
      *this, "query-tile",
      llvm::cl::desc("tucker-flash-to-linalg: rows of queries per tile"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> keyTile{
      *this, "key-tile",
      llvm::cl::desc("tucker-flash-to-linalg: keys per tile"),
      llvm::cl::init(64)};
  PassOptions::Option<bool> inlineCalls{
      *this, "inline",
      llvm::cl::desc("Inline calls between functions of the module (the "
                     "public functions stay as entry points)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse producer/consumer elementwise linalg ops on "
                     "tensors before bufferization"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile linalg ops to registers and vectorize them "
                     "(tucker-cpu-vectorize) before bufferization; off: "
                     "scalar loops"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("tucker-cpu-vectorize: bits of a vector register (0: "
                     "the host's)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> hoistLoopBuffers{
      *this, "hoist-loop-buffers",
      llvm::cl::desc("Hoist loop-invariant buffer allocations (the per-tile "
                     "temporaries of the flash loops) out of their loops"),
      llvm::cl::init(true)};
};

/// The tensor-level half: the tucker stage (when enabled) and the cleanups
/// of linalg on tensors. Leaves linalg/tensor/scf/arith/math on tensors.
void buildTuckerToLinalgPipeline(OpPassManager &pm,
                                 const TuckerCpuPipelineOptions &options);

/// The CPU lowering half: register-tiled vector code (tucker-cpu-vectorize),
/// one-shot bufferization (function boundaries, identity layouts), results
/// to out-params (the caller owns every output), buffer deallocation, what
/// is left of linalg to loops, and everything to the LLVM dialect.
void buildTuckerCpuLoweringPipeline(OpPassManager &pm,
                                    const TuckerCpuPipelineOptions &options);

/// --tucker-cpu-pipeline: buildTuckerToLinalgPipeline, then
/// buildTuckerCpuLoweringPipeline. Anchored on builtin.module.
void buildTuckerCpuPipeline(OpPassManager &pm,
                            const TuckerCpuPipelineOptions &options);

/// Options of --tucker-gpu-pipeline (lib/Pipelines/GpuPipeline.cpp).
struct TuckerGpuPipelineOptions
    : public PassPipelineOptions<TuckerGpuPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("Target chip (sm_90a; sm_90 is taken as sm_90a)"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("gpu.binary format: isa (PTX text, no CUDA toolkit "
                     "needed), bin (cubin) or fatbin (both need ptxas)"),
      llvm::cl::init("isa")};
  PassOptions::Option<int> optLevel{
      *this, "opt-level",
      llvm::cl::desc("Optimization level of the NVVM compilation"),
      llvm::cl::init(3)};
  PassOptions::Option<bool> pingPong{
      *this, "ping-pong",
      llvm::cl::desc("--tucker-gpu-configure's ping-pong option"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> headsPerTile{
      *this, "heads-per-tile",
      llvm::cl::desc("--tucker-gpu-configure's heads-per-tile option (0: from "
                     "the shapes)"),
      llvm::cl::init(0)};
  PassOptions::Option<FlashDecodeMode> decode{
      *this, "decode", llvm::cl::desc("--tucker-gpu-configure's decode option"),
      llvm::cl::init(FlashDecodeMode::Auto),
      llvm::cl::values(
          clEnumValN(FlashDecodeMode::Auto, "auto",
                     "when Nq is static and at most 64"),
          clEnumValN(FlashDecodeMode::On, "on",
                     "refused when Nq is dynamic or above 64"),
          clEnumValN(FlashDecodeMode::Off, "off", "the prefill kernel"))};
  PassOptions::Option<int64_t> kvSplits{
      *this, "kv-splits",
      llvm::cl::desc("--tucker-gpu-configure's kv-splits option (0: from the "
                     "shapes)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> smCount{
      *this, "sm-count",
      llvm::cl::desc("--tucker-gpu-configure's sm-count option"),
      llvm::cl::init(132)};
  PassOptions::Option<int64_t> keysPerTile{
      *this, "keys-per-tile",
      llvm::cl::desc("--tucker-gpu-configure's keys-per-tile option (0: from "
                     "the shapes)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> consumerWarpgroups{
      *this, "consumer-warpgroups",
      llvm::cl::desc("--tucker-gpu-configure's consumer-warpgroups option (0: "
                     "from the shapes)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> ropeKernel{
      *this, "rope-kernel",
      llvm::cl::desc("--tucker-gpu-configure's rope-kernel option"),
      llvm::cl::init(true)};
};

/// --tucker-gpu-pipeline: tucker stage, --tucker-gpu-configure and
/// --tucker-flash-to-gpu, a check that
/// nothing but the flash kernels' launch is left for the host (the
/// whole-layer GPU path is refused), one-shot bufferization with out-params,
/// device buffers for the flash outputs, gpu-lower-to-nvvm-pipeline.
void buildTuckerGpuPipeline(OpPassManager &pm,
                            const TuckerGpuPipelineOptions &options);

/// Registers --tucker-gpu-pipeline (called by registerTuckerPipelines()).
void registerTuckerGpuPipeline();

/// Registers --tucker-cpu-pipeline and --tucker-gpu-pipeline.
void registerTuckerPipelines();

} // namespace tucker
} // namespace mlir

#endif // TUCKER_PIPELINES_PIPELINES_H

//===- MapLoops.cpp - Host linalg on buffers to GPU-mappable loops --------===//
//
// --tucker-gpu-map-loops: what is left of a layer after the flash kernels
// and the GEMM calls (biases, norms, rope, casts, transposes, copies; fused
// by linalg elementwise fusion where they could be) becomes 1-D loop nests
// that the upstream --gpu-map-parallel-loops / --convert-parallel-loops-to-gpu
// turn into kernels: one thread per element of the fused op's parallel
// iteration space, its reduction dims (an RMS norm's sum) a loop per thread.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"
#include "tucker/Conversion/Passes.h"

#include <numeric>

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERGPUMAPLOOPSPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

/// The functions whose bodies run on the host.
SmallVector<func::FuncOp> hostFunctions(ModuleOp module) {
  SmallVector<func::FuncOp> out;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      out.push_back(f);
  return out;
}

/// memref.copy (a host memcpy) → linalg.copy (a kernel, below).
void copiesToLinalg(IRRewriter &rewriter, func::FuncOp func) {
  SmallVector<memref::CopyOp> copies;
  func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  for (memref::CopyOp copy : copies) {
    rewriter.setInsertionPoint(copy);
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                copy.getTarget());
  }
}

/// Every linalg op → scf.parallel (parallel dims) around scf.for
/// (reductions); one without parallel dims inside a one-iteration
/// scf.parallel, so that it too runs on the GPU.
LogicalResult linalgToLoops(IRRewriter &rewriter, func::FuncOp func) {
  SmallVector<linalg::LinalgOp> ops;
  func.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
  for (linalg::LinalgOp op : ops) {
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    scf::ParallelOp single;
    if (op.getNumParallelLoops() == 0) {
      Value c0 = arith::ConstantIndexOp::create(rewriter, loc, 0);
      Value c1 = arith::ConstantIndexOp::create(rewriter, loc, 1);
      single = scf::ParallelOp::create(rewriter, loc, ValueRange{c0},
                                       ValueRange{c1}, ValueRange{c1});
      rewriter.setInsertionPointToStart(single.getBody());
      Operation *moved = rewriter.clone(*op);
      rewriter.eraseOp(op);
      op = cast<linalg::LinalgOp>(moved);
      rewriter.setInsertionPoint(op);
    }
    if (failed(linalg::linalgOpToParallelLoops(rewriter, op)))
      return op->emitError("tucker-gpu-pipeline: cannot turn '")
             << op->getName() << "' into loops for the GPU";
    rewriter.eraseOp(op);
  }
  return success();
}

/// Outermost scf.parallel ops (not nested in another).
SmallVector<scf::ParallelOp> outermostParallels(func::FuncOp func) {
  SmallVector<scf::ParallelOp> out;
  func.walk([&](scf::ParallelOp loop) {
    if (!loop->getParentOfType<scf::ParallelOp>())
      out.push_back(loop);
  });
  return out;
}

/// One dim, then tiles of `blockSize` with constant inner bounds.
void collapseAndTile(IRRewriter &rewriter, scf::ParallelOp loop,
                     int64_t blockSize) {
  unsigned rank = loop.getNumLoops();
  if (rank > 1) {
    std::vector<unsigned> all(rank);
    std::iota(all.begin(), all.end(), 0u);
    // collapseParallelLoops replaces the loop (with the index arithmetic of
    // its bounds in front): find the new one between the old neighbours.
    Block *block = loop->getBlock();
    Operation *prev = loop->getPrevNode(), *next = loop->getNextNode();
    collapseParallelLoops(rewriter, loop, {all});
    Operation *op = prev ? prev->getNextNode() : &block->front();
    while (op != next && !isa<scf::ParallelOp>(op))
      op = op->getNextNode();
    loop = cast<scf::ParallelOp>(op);
  }
  scf::tileParallelLoop(loop, {blockSize}, /*noMinMaxBounds=*/true);
}

/// A host global read by a kernel would hand it host memory; the pipeline
/// reads constants through device copies first (--tucker-gpu-device-buffers),
/// leaving the host global's address for the upload only.
LogicalResult checkNoHostGlobals(func::FuncOp func) {
  WalkResult result = func.walk([&](memref::GetGlobalOp get) {
    if (llvm::all_of(get->getUsers(),
                     llvm::IsaPred<memref::ExtractAlignedPointerAsIndexOp>))
      return WalkResult::advance();
    get.emitError("tucker-gpu-pipeline: '")
        << get->getName() << "' of @" << get.getName()
        << " reads host memory (--tucker-gpu-device-buffers reads constants "
           "through their device copies; run it first)";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

/// A memory access left outside every scf.parallel would run on the host.
LogicalResult checkNoHostAccess(func::FuncOp func) {
  WalkResult result = func.walk([&](Operation *op) {
    if (!isa<memref::LoadOp, memref::StoreOp, memref::CopyOp>(op) ||
        op->getParentOfType<scf::ParallelOp>())
      return WalkResult::advance();
    op->emitError("tucker-gpu-pipeline: '")
        << op->getName()
        << "' would access device memory from the host (no GPU lowering)";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

struct TuckerGpuMapLoopsPass
    : tucker::impl::TuckerGpuMapLoopsPassBase<TuckerGpuMapLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 1 || blockSize > 1024) {
      emitError(module.getLoc())
          << "--tucker-gpu-map-loops: block-size = " << int64_t(blockSize)
          << " must be in [1, 1024]";
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (func::FuncOp func : hostFunctions(module)) {
      copiesToLinalg(rewriter, func);
      if (failed(checkNoHostGlobals(func)) ||
          failed(linalgToLoops(rewriter, func)))
        return signalPassFailure();
      for (scf::ParallelOp loop : outermostParallels(func))
        collapseAndTile(rewriter, loop, blockSize);
      if (failed(checkNoHostAccess(func)))
        return signalPassFailure();
    }
  }
};

} // namespace

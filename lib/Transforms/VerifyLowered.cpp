//===- VerifyLowered.cpp - Check that a pipeline reached LLVM -------------===//

#include "tucker/Transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERVERIFYLOWEREDPASS
#include "tucker/Transforms/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;

namespace {

struct TuckerVerifyLoweredPass
    : tucker::impl::TuckerVerifyLoweredPassBase<TuckerVerifyLoweredPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult result = module.walk([&](Operation *op) {
      if (op == module || isa<LLVM::LLVMDialect>(op->getDialect()))
        return WalkResult::advance();
      // A gpu.binary holds its kernels as an object, not as ops.
      if (allowGpu && isa<gpu::BinaryOp, gpu::LaunchFuncOp>(op))
        return WalkResult::skip();
      op->emitOpError() << "was not lowered to the LLVM dialect by the "
                        << (allowGpu ? "GPU" : "CPU")
                        << " pipeline: no pass of it lowers this op";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

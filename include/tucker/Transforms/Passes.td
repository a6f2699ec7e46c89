//===- Passes.td - Project-level transformations -----------*- tablegen -*-===//
//
// Passes of the pipelines that act on upstream dialects only: what makes the
// linalg a frontend hands over lowerable, and the check that a pipeline
// reached its target.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_TRANSFORMS_PASSES_TD
#define TUCKER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TuckerDecomposeAggregatesPass : Pass<"tucker-decompose-aggregates"> {
  let summary = "Decompose aggregated linalg ops (linalg.softmax) into structured ops";
  let description = [{
    Replaces every op that implements `linalg::AggregatedOpInterface` by the
    ops its `decomposeOperation` returns: `linalg.softmax` becomes a max
    reduction, the subtracted exponential, a sum reduction and the division,
    all linalg ops on tensors that the rest of a pipeline lowers like any
    other. A softmax on f16 or bf16 is computed in f32 (`arith.extf`, the
    softmax, `arith.truncf`): the decomposition reduces in the op's element
    type, and a sum of exponentials rounded at every step loses accuracy.
    Runs in both pipelines before their linalg stages (frontends emit
    `linalg.softmax` for attention that `--tucker-raise` leaves alone). An
    op whose decomposition fails is an error at its location.

    Before:
    ```mlir
    %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x8xf32>)
        outs(%e : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
    ```
    After: `linalg.fill` + `linalg.generic` (max), `linalg.generic` (exp of
    the difference), `linalg.fill` + `linalg.generic` (sum), `linalg.generic`
    (division).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TuckerVerifyLoweredPass
    : Pass<"tucker-verify-lowered", "::mlir::ModuleOp"> {
  let summary = "Fail, naming the op, when a pipeline left an op outside its target";
  let description = [{
    The last pass of `--tucker-cpu-pipeline` and `--tucker-gpu-pipeline`:
    every op must be in the LLVM dialect or be one of the few others that
    translate to LLVM IR as they are (`builtin.module`, and for the GPU
    pipeline `gpu.binary` and `gpu.launch_func`). Anything else (an op no
    pass lowered, e.g. a linalg op without a lowering, or a conversion cast
    left between two partial conversions) is reported at its location with
    its name, and the pipeline fails, instead of handing over a module that
    the translation to LLVM IR rejects.
  }];
  let options = [
    Option<"allowGpu", "allow-gpu", "bool", /*default=*/"false",
           "Also accept gpu.binary and gpu.launch_func (the GPU pipeline's "
           "host module)">,
  ];
}

#endif // TUCKER_TRANSFORMS_PASSES_TD

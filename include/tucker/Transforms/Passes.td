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

def TuckerCpuVectorizePass
    : Pass<"tucker-cpu-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tile linalg ops on tensors to registers and vectorize them";
  let description = [{
    The CPU pipeline's code generation for linalg on tensors, through
    upstream transformations only. Every linalg op whose indexing maps are
    projected permutations, whose body is arith/math and whose results are
    floats is tiled (`scf::tileUsingSCF`) to a vector tile: the loop that is
    innermost in most operands (weighted by their rank) is the vector dim,
    tiled by a few registers' worth of lanes; an op that reduces along a
    parallel vector dim (a product) also gets a row dim, a parallel output
    dim that an input with the vector dim lacks, tiled by the register rows
    (8 with 32 vector registers, else 6); every other dim is tiled by 1, the
    reductions innermost. Loops whose extent the tile does not divide are
    peeled (`scf::peelForLoopAndSimplifyBounds`) and the partial tiles tiled
    by 1 along the dims still dynamic, so that every tile has a static shape;
    `linalg::vectorize` turns each into vector ops.

    The vector ops are then lowered by the upstream patterns: reductions of
    products into `vector.contract`, slices folded into the transfers, n-D
    vectors unrolled into rows of the innermost dim, the accumulator rows
    hoisted out of the reduction loops (`hoistLoopInvariantSubsets`: they
    stay in registers), contractions into outer products and `vector.fma`,
    row reductions into `vector.reduction`; f32 `math.exp2` and `math.exp`
    become the polynomial approximation (libm's are scalar calls). A matmul
    becomes the register-blocked kernel: per reduction step one vector row of
    B, one broadcast element of A per row, rows × vectors FMAs.

    Ops it does not take (other maps, regions in the body, integer results,
    a 16-bit operand that has the vector dim but not innermost, such as a
    bf16 transpose, whose element-by-element gather LLVM 22's x86 backend
    cannot select at -O1 and -O2) stay as they are, for
    `convert-linalg-to-loops`.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"0",
           "Bits of a vector register (0: the host's: 512 with AVX-512, "
           "256 with AVX, else 128); 512 also means 32 registers">,
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
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

//===- TuckerBase.td - Tucker dialect definition -----------*- tablegen -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKERBASE_TD
#define TUCKER_DIALECT_TUCKER_IR_TUCKERBASE_TD

include "mlir/IR/OpBase.td"

def Tucker_Dialect : Dialect {
  let name = "tucker";
  let cppNamespace = "::mlir::tucker";
  let summary = "Tucker attention: factorized multi-head attention";
  let description = [{
    The `tucker` dialect represents attention layers (MHA, GQA/MQA, DeepSeek
    MLA), their exact Tucker form (`tucker.attention`: a head, query and key
    factor plus a core for the pre-softmax bilinear tensor, and likewise for
    the post-softmax tensor), the flash-attention kernel they execute as
    (`tucker.flash`), and rotary position embeddings (`tucker.rope`).

    Tensors are row-major; activations are `[B, N, d]`; weight matrices are
    `[in, out]` (`y = x W`); head `i` of a projection is its column block `i`.
    Element types are f32, f16 and bf16; arithmetic accumulates in f32.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Canonicalization builds linalg contractions over tensors.
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  // What the GPU pipeline marks on upstream ops: a memref.alloc whose region
  // of the workspace a host function keeps between calls, the workspace
  // bytes of an entry, and a kernel's launch geometry (for callers that
  // build their own tensor maps).
  let discardableAttrs = (ins "::mlir::UnitAttr":$persistent,
                              "::mlir::IntegerAttr":$workspace_bytes,
                              "::mlir::DictionaryAttr":$launch);
  let hasOperationAttrVerify = 1;
}

class Tucker_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tucker_Dialect, mnemonic, traits>;

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKERBASE_TD

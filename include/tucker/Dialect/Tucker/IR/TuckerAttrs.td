//===- TuckerAttrs.td - Tucker attributes ------------------*- tablegen -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_TD
#define TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_TD

include "tucker/Dialect/Tucker/IR/TuckerBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

// A 64-bit float written as a plain literal (`10000.0`) that round-trips.
def Tucker_F64Parameter : APFloatParameter<"a 64-bit float"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

def Tucker_RopeStyle : I32EnumAttr<"RopeStyle", "pairing of rotated dims", [
    I32EnumAttrCase<"Half", 0, "half">,
    I32EnumAttrCase<"Interleaved", 1, "interleaved">]> {
  let cppNamespace = "::mlir::tucker";
  let genSpecializedAttr = 0;
}

class Tucker_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tucker_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Tucker_RanksAttr : Tucker_Attr<"Ranks", "ranks"> {
  let summary = "Tucker ranks of the pre- and post-softmax weight tensors";
  let description = [{
    The multilinear ranks `[r1, r2, r3]` (head, query, key) of the
    pre-softmax tensor and `[r̃1, r̃2, r̃3]` (head, output, value) of the
    post-softmax tensor.

    Example: `#tucker.ranks<[8, 128, 64], [8, 128, 64]>`
  }];
  let parameters = (ins ArrayRefParameter<"int64_t", "pre-softmax ranks">:$pre,
                        ArrayRefParameter<"int64_t", "post-softmax ranks">:$post);
  let assemblyFormat = "`<` `[` $pre `]` `,` `[` $post `]` `>`";
  let genVerifyDecl = 1;
}

def Tucker_SelectorAttr : Tucker_Attr<"Selector", "selector"> {
  let summary = "implicit block-selector core of MHA/GQA/MQA";
  let description = [{
    Stands for the selector cores that make MHA, GQA and MQA special cases
    of Tucker attention, without storing them. Pre-softmax core slice `a`
    maps query block `a` to key block `groups[a]` (blocks of `head_dim`);
    post-softmax core slice `a` maps value block `groups[a]` to output block
    `a` (blocks of `value_dim`, which defaults to `head_dim`). MHA has
    `groups = [0, 1, ..., H-1]`, GQA `groups[a] = a / (H / H_kv)`.

    Example: `#tucker.selector<head_dim = 64, groups = [0, 0, 1, 1], value_dim = 32>`
  }];
  let parameters = (ins "int64_t":$head_dim,
                        OptionalParameter<"std::optional<int64_t>">:$value_dim,
                        ArrayRefParameter<"int64_t", "key block of each head">:$groups);
  let assemblyFormat = [{
    `<` `head_dim` `=` $head_dim `,` `groups` `=` `[` $groups `]`
    (`,` `value_dim` `=` $value_dim^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Width of one value block.
    int64_t getValueDimOrHeadDim() const {
      return getValueDim().value_or(getHeadDim());
    }
    /// Number of key/value blocks (`max(groups) + 1`).
    int64_t getNumKvBlocks() const;
  }];
}

def Tucker_RopeAttr : Tucker_Attr<"Rope", "rope"> {
  let summary = "rotary position embedding descriptor";
  let description = [{
    Rotates `repeat` blocks of `width` dims of a vector, block `b` spanning
    `[offset + b·stride, offset + b·stride + width)` (`stride` defaults to
    `width`: adjacent blocks), each by the position-dependent angles
    `pos · theta^(-2j/width)`, `j < width/2`. `half` pairs dim `j` of a block
    with `j + width/2` (HF Llama's rotate-half); `interleaved` pairs `2j`
    with `2j + 1`. Other dims are unchanged. A stride larger than the width
    describes per-head partial rotation over stacked heads.

    Example: `#tucker.rope<theta = 10000.0, width = 64, repeat = 4, style = half>`
  }];
  let parameters = (ins Tucker_F64Parameter:$theta,
                        "int64_t":$width,
                        DefaultValuedParameter<"int64_t", "0">:$offset,
                        DefaultValuedParameter<"int64_t", "1">:$repeat,
                        OptionalParameter<"std::optional<int64_t>">:$stride,
                        EnumParameter<Tucker_RopeStyle>:$style);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Distance between the starts of consecutive rotated blocks.
    int64_t getStrideOrWidth() const { return getStride().value_or(getWidth()); }
    /// One past the last rotated dim.
    int64_t getEnd() const {
      return getOffset() + getStrideOrWidth() * (getRepeat() - 1) + getWidth();
    }
  }];
}

def Tucker_RmsNormAttr : Tucker_Attr<"RmsNorm", "rms_norm"> {
  let summary = "per-token RMS normalization of a latent";
  let description = [{
    Divides the first `width` dims of a per-token latent by their root mean
    square, `z / sqrt(mean(z²) + epsilon)`; other dims are unchanged. The
    norm's weight is folded into the factors.

    Example: `#tucker.rms_norm<epsilon = 1.0e-06, width = 512>`
  }];
  let parameters = (ins Tucker_F64Parameter:$epsilon, "int64_t":$width);
  let assemblyFormat = "`<` `epsilon` `=` $epsilon `,` `width` `=` $width `>`";
  let genVerifyDecl = 1;
}

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_TD

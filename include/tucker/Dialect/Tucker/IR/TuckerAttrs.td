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

// `true` or `false`.
def Tucker_BoolParameter : AttrParameter<"bool", "a boolean"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<bool> {
    if (::mlir::succeeded($_parser.parseOptionalKeyword("true")))
      return true;
    if (::mlir::succeeded($_parser.parseOptionalKeyword("false")))
      return false;
    return $_parser.emitError($_parser.getCurrentLocation(),
                              "expected 'true' or 'false'");
  }() }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
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

def Tucker_FlashScheduleAttr : Tucker_Attr<"FlashSchedule", "flash_schedule"> {
  let summary = "how a tucker.flash runs on a Hopper GPU";
  let description = [{
    Every schedule choice of the Hopper kernels of one `tucker.flash`,
    stamped by `--tucker-gpu-configure` (which keeps one already present, so
    a user, a benchmark or a tuner can set it) and read by
    `--tucker-flash-to-gpu`:

    * `decode`: the split-KV kernel (queries of a head tile in one 64-row
      tile, the key sequence split across CTAs, partials merged), else the
      prefill kernel;
    * `consumers`: consumer warpgroups of the prefill kernel (2 or 3, 64
      query rows each; decode and the split-O kernel of heads wider than 256
      run 2);
    * `heads_per_tile`: query heads of one key/value head packed into a
      query tile (a power of two), each with `rows / heads_per_tile`
      positions;
    * `keys_per_tile`: keys per K/V tile of the prefill kernel (a multiple of
      16 in [32, 256]), or 0: the largest whose ring fits shared memory and
      registers;
    * `kv_splits`: key splits of a decode kernel, or 0: planned at launch
      from the batch, the heads and `sm_count` SMs;
    * `ping_pong`: the consumer warpgroups take turns issuing wgmma;
    * `rope_kernel`: a prefill with RoPE rotates q and k in a kernel of its
      own ahead of the flash kernel, instead of in shared memory;
    * `dependent_launch`: the kernel is launched with programmatic stream
      serialization (it waits for the previous grid itself: decode only).

    Example:
    `#tucker.flash_schedule<decode = false, consumers = 3, heads_per_tile = 2,
      keys_per_tile = 0, kv_splits = 0, sm_count = 132, ping_pong = true,
      rope_kernel = true, dependent_launch = false>`
  }];
  let parameters = (ins Tucker_BoolParameter:$decode, "int64_t":$consumers,
                        "int64_t":$heads_per_tile, "int64_t":$keys_per_tile,
                        "int64_t":$kv_splits, "int64_t":$sm_count,
                        Tucker_BoolParameter:$ping_pong,
                        Tucker_BoolParameter:$rope_kernel,
                        Tucker_BoolParameter:$dependent_launch);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tucker_FlashBackwardScheduleAttr
    : Tucker_Attr<"FlashBackwardSchedule", "flash_backward_schedule"> {
  let summary = "how a tucker.flash_backward runs on a Hopper GPU";
  let description = [{
    The schedule of the Hopper kernels of one `tucker.flash_backward`,
    stamped by `--tucker-gpu-configure` (which keeps one already present)
    and read by `--tucker-flash-to-gpu`:

    * `keys_per_tile`: keys per CTA of the main kernel, whose dK and dV stay
      in registers while it walks the query tiles that see them;
    * `queries_per_tile`: query rows per step of that walk;
    * `head_splits`: how many CTAs share the query heads of one kv head
      (a divisor of the group Hq / Hkv): each walks its share of the heads
      and writes its dK, dV in f32, which a reduction kernel then sums in
      split order. More CTAs for groups with few kv heads (latent MQA:
      one), at the cost of that traffic;
    * `ordered_dq`: how the CTAs of different key tiles add their parts of
      dQ into one f32 accumulator: `false`, by f32 atomics in whatever order
      they come (the rounding, so the bits, can change from run to run);
      `true`, by plain loads and stores in the order of the key tiles, each
      CTA waiting on a counter per query tile for the one before it (the
      same bits every run; what a `deterministic` op needs).

    The tiles are multiples of 16; the kernel runs 128 keys and 64 queries,
    and `--tucker-gpu-configure` refuses other tiles.

    Example: `#tucker.flash_backward_schedule<keys_per_tile = 128,
    queries_per_tile = 64, head_splits = 1, ordered_dq = false>`
  }];
  let parameters = (ins "int64_t":$keys_per_tile, "int64_t":$queries_per_tile,
                        "int64_t":$head_splits,
                        Tucker_BoolParameter:$ordered_dq);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_TD

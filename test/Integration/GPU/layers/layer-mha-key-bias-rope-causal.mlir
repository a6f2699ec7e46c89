// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "gqa", "heads": 4, "kv_heads": 4, "theta": 10000.0, "causal": true, "bias": true}

// Tests that: an MHA with all four biases under RoPE (HF Llama with
// attention_bias; Qwen2's nonzero key bias) runs on the GPU: --tucker-lift
// keeps the key bias as the weight row of a constant input feature 1, so the
// projections read x' = [x, 1] (257 columns) and the output drops the extra
// column; heads of 64, causal.
func.func @layer(%x: tensor<2x200x256xbf16>, %wq: tensor<256x256xbf16>, %wk: tensor<256x256xbf16>,
                 %wv: tensor<256x256xbf16>, %wo: tensor<256x256xbf16>, %bq: tensor<256xbf16>,
                 %bk: tensor<256xbf16>, %bv: tensor<256xbf16>, %bo: tensor<256xbf16>)
    -> tensor<2x200x256xbf16> {
  %y = tucker.mha %x, %wq, %wk, %wv, %wo bq(%bq) bk(%bk) bv(%bv) bo(%bo)
      {num_heads = 4 : i64, causal, rope = #tucker.rope<theta = 10000.0, width = 64, style = half>}
      : (tensor<2x200x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>, tensor<256x256xbf16>,
         tensor<256x256xbf16>, tensor<256xbf16>, tensor<256xbf16>, tensor<256xbf16>, tensor<256xbf16>)
      -> tensor<2x200x256xbf16>
  return %y : tensor<2x200x256xbf16>
}

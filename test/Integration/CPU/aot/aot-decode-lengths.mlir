// RUN: rm -rf %t && split-file %s %t
// RUN: tucker-compile %t/decode.mlir -o %t/libdecode.so --signature=%t/decode.json
// RUN: FileCheck %s --check-prefix=DECODE < %t/decode.json
// RUN: tucker-compile %t/latent.mlir -o %t/liblatent.so --signature=%t/latent.json
// RUN: FileCheck %s --check-prefix=LATENT < %t/latent.json

// Tests that: tucker-compile takes an i32 lengths argument of a tucker.flash
// and marks it in the signature with the flash's batch size and key count:
// dims of other inputs when dynamic (B from q, Nk from k), numbers when
// static, null when the inputs do not determine them (k computed in the
// kernel); a cast between the argument and the flash is looked through.

// DECODE: "inputs":[{"dtype":"f32","shape":[null,4,1,16]},{"dtype":"f32","shape":[null,2,null,16]},
// DECODE-SAME: {"dtype":"f32","shape":[null,2,null,8]},
// DECODE-SAME: {"dtype":"i32","shape":[null],"lengths":[{"batch":{"input":0,"dim":0},"keys":{"input":1,"dim":2}}]}]

// LATENT: "inputs":[{"dtype":"f32","shape":[3,8,2,24]},{"dtype":"f32","shape":[3,1,null,24]},
// LATENT-SAME: {"dtype":"i32","shape":[3],"lengths":[{"batch":3,"keys":null},{"batch":3,"keys":{"input":1,"dim":2}}]}

//--- decode.mlir
func.func @decode(%q: tensor<?x4x1x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x8xf32>,
                  %len: tensor<?xi32>) -> tensor<?x4x1x8xf32> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<?xi32>) {causal}
      : tensor<?x4x1x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32> -> tensor<?x4x1x8xf32>
  return %o : tensor<?x4x1x8xf32>
}

//--- latent.mlir
// Two flashes read the lengths: one over a cache scaled in the kernel (its
// Nk is not an input's), one over the cache itself (v a slice of k).
func.func @latent(%q: tensor<3x8x2x24xf32>, %k: tensor<3x1x?x24xf32>, %len: tensor<3xi32>)
    -> (tensor<3x8x2x16xf32>, tensor<3x8x2x16xf32>) {
  %c2 = arith.constant 2 : index
  %n = tensor.dim %k, %c2 : tensor<3x1x?x24xf32>
  %e = tensor.empty(%n) : tensor<3x1x?x24xf32>
  %k2 = linalg.add ins(%k, %k : tensor<3x1x?x24xf32>, tensor<3x1x?x24xf32>)
      outs(%e : tensor<3x1x?x24xf32>) -> tensor<3x1x?x24xf32>
  %v2 = tensor.extract_slice %k2[0, 0, 0, 0] [3, 1, %n, 16] [1, 1, 1, 1] : tensor<3x1x?x24xf32> to tensor<3x1x?x16xf32>
  %lend = tensor.cast %len : tensor<3xi32> to tensor<?xi32>
  %a = tucker.flash %q, %k2, %v2 lengths(%lend : tensor<?xi32>) {causal}
      : tensor<3x8x2x24xf32>, tensor<3x1x?x24xf32>, tensor<3x1x?x16xf32> -> tensor<3x8x2x16xf32>
  %v = tensor.extract_slice %k[0, 0, 0, 0] [3, 1, %n, 16] [1, 1, 1, 1] : tensor<3x1x?x24xf32> to tensor<3x1x?x16xf32>
  %b = tucker.flash %q, %k, %v lengths(%len : tensor<3xi32>)
      : tensor<3x8x2x24xf32>, tensor<3x1x?x24xf32>, tensor<3x1x?x16xf32> -> tensor<3x8x2x16xf32>
  return %a, %b : tensor<3x8x2x16xf32>, tensor<3x8x2x16xf32>
}

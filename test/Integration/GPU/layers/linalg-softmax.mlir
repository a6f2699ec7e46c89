// REQUIRES: cuda
// RUN: tucker-compile %s --target=cuda --pipeline-options='format=bin' -o %t.so --signature=%t.json
// RUN: %python %S/check_layer.py %s %t.so %t.json | FileCheck %s
// CHECK: PASS
// CASE: {"layer": "softmax", "dim": 2}

// Tests that: linalg.softmax as frontends emit it (decomposed by
// --tucker-decompose-aggregates into reductions and elementwise ops) runs on
// the GPU.
func.func @layer(%x: tensor<4x128x200xbf16>) -> tensor<4x128x200xbf16> {
  %e = tensor.empty() : tensor<4x128x200xbf16>
  %p = linalg.softmax dimension(2) ins(%x : tensor<4x128x200xbf16>) outs(%e : tensor<4x128x200xbf16>)
      -> tensor<4x128x200xbf16>
  return %p : tensor<4x128x200xbf16>
}

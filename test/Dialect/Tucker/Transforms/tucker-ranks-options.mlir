// Tests that: the tolerance decides which small singular values count,
// report-skipped explains why an op got no ranks, and a bad tolerance fails.
// RUN: tucker-opt %s --tucker-ranks 2>&1 >/dev/null | FileCheck %s --check-prefix=DEFAULT
// RUN: tucker-opt %s --tucker-ranks=tolerance=1e-2 2>&1 >/dev/null | FileCheck %s --check-prefix=COARSE
// RUN: tucker-opt %s --tucker-ranks=report-skipped 2>&1 >/dev/null | FileCheck %s --check-prefix=SKIPPED
// RUN: not tucker-opt %s --tucker-ranks=tolerance=-1 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: --tucker-ranks: option 'tolerance' must be in [0, 1), got -1{{$}}

// Two heads of 2 with W^Q = diag(1, 1e-3, 1, 1e-3), W^K = W^V = W^O = I:
// the query and key modes have singular values (1, 1, 1e-3, 1e-3).
func.func @small_directions(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %wq = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0e-3, 0.0, 0.0],
                              [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0e-3]]> : tensor<4x4xf32>
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  // DEFAULT: [[@LINE+3]]:8: remark: pre-softmax ranks [2, 4, 4], post-softmax ranks [2, 4, 4] (tolerance 1e-06)
  // COARSE: [[@LINE+2]]:8: remark: pre-softmax ranks [2, 2, 2], post-softmax ranks [2, 4, 4] (tolerance 0.01)
  // SKIPPED: [[@LINE+1]]:8: remark: pre-softmax ranks [2, 4, 4], post-softmax ranks [2, 4, 4] (tolerance 1e-06)
  %y = tucker.mha %x, %wq, %eye, %eye, %eye {num_heads = 2 : i64}
      : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>,
         tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// DEFAULT-NOT: ranks not computed
// COARSE-NOT: ranks not computed
func.func @not_constant(%x: tensor<1x3x4xf32>, %wk: tensor<4x4xf32>) -> tensor<1x3x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  // SKIPPED: [[@LINE+1]]:8: remark: ranks not computed: operand 'wk' is not a constant
  %y = tucker.mha %x, %w, %wk, %w, %w {num_heads = 2 : i64}
      : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>,
         tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

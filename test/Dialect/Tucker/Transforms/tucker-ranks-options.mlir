// Tests that: the tolerance decides which small singular values count,
// report-skipped explains why an op got no ranks, singular-values lists the
// singular values of every mode in notes, and a bad tolerance fails.
// RUN: tucker-opt %s --tucker-ranks -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=DEFAULT
// RUN: tucker-opt %s --tucker-ranks=tolerance=1e-2 -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=COARSE
// RUN: tucker-opt %s --tucker-ranks=report-skipped -split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=SKIPPED
// RUN: tucker-opt %s --tucker-ranks=singular-values -split-input-file --mlir-print-op-on-diagnostic=false 2>&1 >/dev/null | FileCheck %s --check-prefix=SV
// RUN: not tucker-opt %s --tucker-ranks=tolerance=-1 -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: --tucker-ranks: option 'tolerance' must be in [0, 1), got -1{{$}}

// Tests that: two heads of 2 with W^Q = diag(1, 1e-3, 1, 1e-3), W^K = W^V =
// W^O = I have query and key singular values (1, 1, 1e-3, 1e-3) (1e-3 as f32
// rounds it), head singular values √(1 + 1e-6) (pre) and √2 (post).
func.func @small_directions(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %wq = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0e-3, 0.0, 0.0],
                              [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0e-3]]> : tensor<4x4xf32>
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  // DEFAULT: [[@LINE+8]]:8: remark: pre-softmax ranks [2, 4, 4], post-softmax ranks [2, 4, 4] (tolerance 1e-06)
  // COARSE: [[@LINE+7]]:8: remark: pre-softmax ranks [2, 2, 2], post-softmax ranks [2, 4, 4] (tolerance 0.01)
  // SKIPPED: [[@LINE+6]]:8: remark: pre-softmax ranks [2, 4, 4], post-softmax ranks [2, 4, 4] (tolerance 1e-06)
  // SV: [[@LINE+5]]:8: remark: pre-softmax ranks [2, 4, 4], post-softmax ranks [2, 4, 4] (tolerance 1e-06)
  // SV: [[@LINE+4]]:8: note: pre-softmax head singular values [1.0000005, 1.0000005]{{$}}
  // SV-NEXT: [[@LINE+3]]:8: note: pre-softmax query singular values [1, 1, 0.00100000005, 0.00100000005]{{$}}
  // SV-NEXT: [[@LINE+2]]:8: note: pre-softmax key singular values [1, 1, 0.00100000005, 0.00100000005]{{$}}
  // SV-NEXT: [[@LINE+1]]:8: note: post-softmax head singular values [1.41421356, 1.41421356]{{$}}
  %y = tucker.mha %x, %wq, %eye, %eye, %eye {num_heads = 2 : i64}
      : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>,
         tensor<4x4xf32>) -> tensor<1x3x4xf32>
  // SV-NEXT: note: post-softmax output singular values [1, 1, 1, 1]{{$}}
  // SV-NEXT: note: post-softmax value singular values [1, 1, 1, 1]{{$}}
  return %y : tensor<1x3x4xf32>
}

// -----

// Tests that: a mode spanned by a latent basis lists as many singular values
// as the basis has columns: 𝒲_0 = (3·e0 + 4·e1)·e0ᵀ through U2 = [e0 e1],
// U3 = [e0] has query singular values [5, 0] and key [5]; the second head is
// zero (U1 = [1; 0]), so both head modes list a 0.
func.func @latent_basis(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %u1 = arith.constant dense<[[1.0], [0.0]]> : tensor<2x1xf32>
  %u2 = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]> : tensor<4x2xf32>
  %u3 = arith.constant dense<[[1.0], [0.0], [0.0], [0.0]]> : tensor<4x1xf32>
  %core = arith.constant dense<[[[3.0], [4.0]]]> : tensor<1x2x1xf32>
  %u2_out = arith.constant dense<[[0.0], [0.0], [0.0], [1.0]]> : tensor<4x1xf32>
  %u3_out = arith.constant dense<[[0.0], [1.0], [0.0], [0.0]]> : tensor<4x1xf32>
  %core_out = arith.constant dense<[[[2.0]]]> : tensor<1x1x1xf32>
  // SV: [[@LINE+7]]:8: remark: pre-softmax ranks [1, 1, 1], post-softmax ranks [1, 1, 1] (tolerance 1e-06)
  // SV: [[@LINE+6]]:8: note: pre-softmax head singular values [5, 0]{{$}}
  // SV-NEXT: [[@LINE+5]]:8: note: pre-softmax query singular values [5, 0]{{$}}
  // SV-NEXT: [[@LINE+4]]:8: note: pre-softmax key singular values [5]{{$}}
  // SV-NEXT: [[@LINE+3]]:8: note: post-softmax head singular values [2, 0]{{$}}
  // SV-NEXT: [[@LINE+2]]:8: note: post-softmax output singular values [2]{{$}}
  // SV-NEXT: [[@LINE+1]]:8: note: post-softmax value singular values [2]{{$}}
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %core), post(%u1, %u2_out, %u3_out, core %core_out) {ranks = #tucker.ranks<[1, 2, 1], [1, 1, 1]>, scale = 0.5 : f64}
      : (tensor<1x3x4xf32>, tensor<2x1xf32>, tensor<4x2xf32>, tensor<4x1xf32>, tensor<1x2x1xf32>, tensor<2x1xf32>, tensor<4x1xf32>, tensor<4x1xf32>, tensor<1x1x1xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// -----

// Tests that: an op whose weights are not all constant gets no remark (and no
// notes) unless report-skipped, which names the operand.
// DEFAULT-NOT: ranks not computed
// COARSE-NOT: ranks not computed
// SV-NOT: ranks not computed
// SV-NOT: singular values
func.func @not_constant(%x: tensor<1x3x4xf32>, %wk: tensor<4x4xf32>) -> tensor<1x3x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  // SKIPPED: [[@LINE+1]]:8: remark: ranks not computed: operand 'wk' is not a constant
  %y = tucker.mha %x, %w, %wk, %w, %w {num_heads = 2 : i64}
      : (tensor<1x3x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>,
         tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// RUN: tucker-opt %s -split-input-file --tucker-raise=explain -verify-diagnostics -o %t.raised
// RUN: tucker-opt %s -split-input-file -o %t.input
// RUN: diff %t.input %t.raised

// Near misses of every recognized form that --tucker-raise must leave
// unchanged (the diff), each with the remark `explain` gives at the softmax.

// Tests that a mask that also keeps the key right after the diagonal
// (drops n > m + 1) is not causal and is not raised.


func.func @neg_mask_off_by_one(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %c13 = arith.constant 0xFF800000 : f32
  %e14 = tensor.empty() : tensor<1x2x8x8xf32>
  %masked15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12 : tensor<1x2x8x8xf32>) outs(%e14 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %o = arith.constant 1 : index
    %io = arith.addi %i, %o : index
    %c = arith.cmpi ugt, %j, %io : index
    %r = arith.select %c, %c13, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %c16 = arith.constant 0xFF800000 : f32
  %e17 = tensor.empty() : tensor<1x2x8xf32>
  %f18 = linalg.fill ins(%c16 : f32) outs(%e17 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %max19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%masked15 : tensor<1x2x8x8xf32>) outs(%f18 : tensor<1x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8xf32>
  %e20 = tensor.empty() : tensor<1x2x8x8xf32>
  %exp21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%masked15, %max19 : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e20 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<1x2x8x8xf32>
  %c22 = arith.constant 0.0 : f32
  %e23 = tensor.empty() : tensor<1x2x8xf32>
  %f24 = linalg.fill ins(%c22 : f32) outs(%e23 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum25 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp21 : tensor<1x2x8x8xf32>) outs(%f24 : tensor<1x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8xf32>
  %e26 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the mask drops the keys n > m + 1 of query m; causal}}
  %probs27 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp21, %sum25 : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e26 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %m28 = tensor.collapse_shape %probs27 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m29 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c30 = arith.constant 0.0 : f32
  %e31 = tensor.empty() : tensor<2x8x8xf32>
  %f32 = linalg.fill ins(%c30 : f32) outs(%e31 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm33 = linalg.batch_matmul ins(%m28, %m29 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f32 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x34 = tensor.expand_shape %bmm33 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x34 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a mask that drops the diagonal too (cmpi uge: drops n ≥ m) is not
// causal.


func.func @neg_mask_diagonal(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %c13 = arith.constant 0xFF800000 : f32
  %e14 = tensor.empty() : tensor<1x2x8x8xf32>
  %masked15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12 : tensor<1x2x8x8xf32>) outs(%e14 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi uge, %j, %i : index
    %r = arith.select %c, %c13, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %e16 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the mask drops the keys n > m + -1 of query m; causal}}
  %sm17 = linalg.softmax dimension(3) ins(%masked15 : tensor<1x2x8x8xf32>) outs(%e16 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %m18 = tensor.collapse_shape %sm17 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m19 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c20 = arith.constant 0.0 : f32
  %e21 = tensor.empty() : tensor<2x8x8xf32>
  %f22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm23 = linalg.batch_matmul ins(%m18, %m19 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f22 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x24 = tensor.expand_shape %bmm23 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x24 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a constant mask that keeps one key too many (n ≤ m + 1), checked
// entry by entry, is not causal.


func.func @neg_mask_constant(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %cmask13 = arith.constant dense<[[0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<8x8xf32>
  %e14 = tensor.empty() : tensor<1x2x8x8xf32>
  %masked15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12, %cmask13 : tensor<1x2x8x8xf32>, tensor<8x8xf32>) outs(%e14 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %e16 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the mask keeps key 1 of query 0, which causal}}
  %sm17 = linalg.softmax dimension(3) ins(%masked15 : tensor<1x2x8x8xf32>) outs(%e16 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %m18 = tensor.collapse_shape %sm17 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m19 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c20 = arith.constant 0.0 : f32
  %e21 = tensor.empty() : tensor<2x8x8xf32>
  %f22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm23 = linalg.batch_matmul ins(%m18, %m19 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f22 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x24 = tensor.expand_shape %bmm23 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x24 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a mask passed in at run time (padding, arbitrary) is not raised:
// tucker only expresses causal masks.


func.func @neg_mask_runtime(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>, %mask: tensor<8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %e13 = tensor.empty() : tensor<1x2x8x8xf32>
  %masked14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12, %mask : tensor<1x2x8x8xf32>, tensor<8x8xf32>) outs(%e13 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.addf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %e15 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: a tensor added to the scores is neither a constant}}
  %sm16 = linalg.softmax dimension(3) ins(%masked14 : tensor<1x2x8x8xf32>) outs(%e15 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %m17 = tensor.collapse_shape %sm16 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m18 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c19 = arith.constant 0.0 : f32
  %e20 = tensor.empty() : tensor<2x8x8xf32>
  %f21 = linalg.fill ins(%c19 : f32) outs(%e20 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm22 = linalg.batch_matmul ins(%m17, %m18 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f21 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x23 = tensor.expand_shape %bmm22 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x23 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a top-left aligned causal mask with more queries than keys is not
// tucker's causal (which aligns the last query with the last key).


func.func @neg_mask_top_left(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x4xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x4x8xf32>) outs(%e1 : tensor<1x2x8x4xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x4xf32> into tensor<2x8x4xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x4xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x4xf32>) outs(%f7 : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 4] : tensor<2x8x4xf32> into tensor<1x2x8x4xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x4xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x4xf32>) outs(%e11 : tensor<1x2x8x4xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x4xf32>
  %c13 = arith.constant 0xFF800000 : f32
  %e14 = tensor.empty() : tensor<1x2x8x4xf32>
  %masked15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12 : tensor<1x2x8x4xf32>) outs(%e14 : tensor<1x2x8x4xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %c = arith.cmpi ugt, %j, %i : index
    %r = arith.select %c, %c13, %a0 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x4xf32>
  %e16 = tensor.empty() : tensor<1x2x8x4xf32>
  // expected-remark @below {{attention not raised: the mask drops the keys n > m + 0 of query m; causal}}
  %sm17 = linalg.softmax dimension(3) ins(%masked15 : tensor<1x2x8x4xf32>) outs(%e16 : tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  %m18 = tensor.collapse_shape %sm17 [[0, 1], [2], [3]] : tensor<1x2x8x4xf32> into tensor<2x8x4xf32>
  %m19 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %c20 = arith.constant 0.0 : f32
  %e21 = tensor.empty() : tensor<2x8x8xf32>
  %f22 = linalg.fill ins(%c20 : f32) outs(%e21 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm23 = linalg.batch_matmul ins(%m18, %m19 : tensor<2x8x4xf32>, tensor<2x4x8xf32>) outs(%f22 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x24 = tensor.expand_shape %bmm23 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x24 : tensor<1x2x8x8xf32>
}

// -----

// Tests that scores scaled by a runtime temperature are not raised (the scale
// must be a constant).


func.func @neg_scale_runtime(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>, %temperature: tensor<f32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %e10 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled11 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> ()>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9, %temperature : tensor<1x2x8x8xf32>, tensor<f32>) outs(%e10 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.mulf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %e12 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the scores are a product of 2 non-constant factors,}}
  %sm13 = linalg.softmax dimension(3) ins(%scaled11 : tensor<1x2x8x8xf32>) outs(%e12 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %m14 = tensor.collapse_shape %sm13 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m15 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c16 = arith.constant 0.0 : f32
  %e17 = tensor.empty() : tensor<2x8x8xf32>
  %f18 = linalg.fill ins(%c16 : f32) outs(%e17 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm19 = linalg.batch_matmul ins(%m14, %m15 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f18 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x20 = tensor.expand_shape %bmm19 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x20 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a negative scale is not raised (tucker's scale is positive).


func.func @neg_scale_negative(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant -0.35 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %e13 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the softmax scale -0.350000 is not positive and finite}}
  %sm14 = linalg.softmax dimension(3) ins(%scaled12 : tensor<1x2x8x8xf32>) outs(%e13 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %m15 = tensor.collapse_shape %sm14 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m16 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c17 = arith.constant 0.0 : f32
  %e18 = tensor.empty() : tensor<2x8x8xf32>
  %f19 = linalg.fill ins(%c17 : f32) outs(%e18 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm20 = linalg.batch_matmul ins(%m15, %m16 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f19 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x21 = tensor.expand_shape %bmm20 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x21 : tensor<1x2x8x8xf32>
}

// -----

// Tests that linalg.softmax over the query dim (dimension 2 of [B, H, Nq, Nk])
// feeding a contraction over keys is not attention.


func.func @neg_softmax_dim(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %e13 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the softmax does not normalize along the dim that}}
  %sm14 = linalg.softmax dimension(2) ins(%scaled12 : tensor<1x2x8x8xf32>) outs(%e13 : tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %m15 = tensor.collapse_shape %sm14 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m16 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c17 = arith.constant 0.0 : f32
  %e18 = tensor.empty() : tensor<2x8x8xf32>
  %f19 = linalg.fill ins(%c17 : f32) outs(%e18 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm20 = linalg.batch_matmul ins(%m15, %m16 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f19 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x21 = tensor.expand_shape %bmm20 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x21 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a decomposed softmax that subtracts the max over the queries (not
// over the keys it normalizes) is not raised: that shift is not constant along
// the keys.


func.func @neg_max_dim(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %c13 = arith.constant 0xFF800000 : f32
  %e14 = tensor.empty() : tensor<1x2x8xf32>
  %f15 = linalg.fill ins(%c13 : f32) outs(%e14 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %max16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%scaled12 : tensor<1x2x8x8xf32>) outs(%f15 : tensor<1x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.maximumf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8xf32>
  %e17 = tensor.empty() : tensor<1x2x8x8xf32>
  %exp18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12, %max16 : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e17 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %d = arith.subf %a0, %a1 : f32
    %ex = math.exp %d : f32
    linalg.yield %ex : f32
  } -> tensor<1x2x8x8xf32>
  %c19 = arith.constant 0.0 : f32
  %e20 = tensor.empty() : tensor<1x2x8xf32>
  %f21 = linalg.fill ins(%c19 : f32) outs(%e20 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%exp18 : tensor<1x2x8x8xf32>) outs(%f21 : tensor<1x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8xf32>
  %e23 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the softmax input is a subtraction, not a scaled and}}
  %probs24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp18, %sum22 : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e23 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %m25 = tensor.collapse_shape %probs24 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m26 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c27 = arith.constant 0.0 : f32
  %e28 = tensor.empty() : tensor<2x8x8xf32>
  %f29 = linalg.fill ins(%c27 : f32) outs(%e28 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm30 = linalg.batch_matmul ins(%m25, %m26 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f29 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x31 = tensor.expand_shape %bmm30 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x31 : tensor<1x2x8x8xf32>
}

// -----

// Tests that a normalization by the sum over the queries is not a softmax along
// the keys.


func.func @neg_sum_dim(%q: tensor<1x2x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x8x8xf32>
  %t2 = linalg.transpose ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x8x8xf32>) permutation = [0, 1, 3, 2]
  %m3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m4 = tensor.collapse_shape %t2 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c5 = arith.constant 0.0 : f32
  %e6 = tensor.empty() : tensor<2x8x8xf32>
  %f7 = linalg.fill ins(%c5 : f32) outs(%e6 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm8 = linalg.batch_matmul ins(%m3, %m4 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f7 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x9 = tensor.expand_shape %bmm8 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  %c10 = arith.constant 3.535533906e-01 : f32
  %e11 = tensor.empty() : tensor<1x2x8x8xf32>
  %scaled12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x9 : tensor<1x2x8x8xf32>) outs(%e11 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c10 : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8x8xf32>
  %e13 = tensor.empty() : tensor<1x2x8x8xf32>
  %exp14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scaled12 : tensor<1x2x8x8xf32>) outs(%e13 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %ex = math.exp %a0 : f32
    linalg.yield %ex : f32
  } -> tensor<1x2x8x8xf32>
  %c15 = arith.constant 0.0 : f32
  %e16 = tensor.empty() : tensor<1x2x8xf32>
  %f17 = linalg.fill ins(%c15 : f32) outs(%e16 : tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
  %sum18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%exp14 : tensor<1x2x8x8xf32>) outs(%f17 : tensor<1x2x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.addf %a0, %acc : f32
    linalg.yield %s : f32
  } -> tensor<1x2x8xf32>
  %e19 = tensor.empty() : tensor<1x2x8x8xf32>
  // expected-remark @below {{attention not raised: the softmax does not normalize along the dim that}}
  %probs20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%exp14, %sum18 : tensor<1x2x8x8xf32>, tensor<1x2x8xf32>) outs(%e19 : tensor<1x2x8x8xf32>) {
  ^bb0(%a0: f32, %a1: f32, %acc: f32):
    %r = arith.divf %a0, %a1 : f32
    linalg.yield %r : f32
  } -> tensor<1x2x8x8xf32>
  %m21 = tensor.collapse_shape %probs20 [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %m22 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x8x8xf32> into tensor<2x8x8xf32>
  %c23 = arith.constant 0.0 : f32
  %e24 = tensor.empty() : tensor<2x8x8xf32>
  %f25 = linalg.fill ins(%c23 : f32) outs(%e24 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %bmm26 = linalg.batch_matmul ins(%m21, %m22 : tensor<2x8x8xf32>, tensor<2x8x8xf32>) outs(%f25 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %x27 = tensor.expand_shape %bmm26 [[0, 1], [2], [3]] output_shape [1, 2, 8, 8] : tensor<2x8x8xf32> into tensor<1x2x8x8xf32>
  return %x27 : tensor<1x2x8x8xf32>
}

// -----

// Tests that GQA whose keys repeat their heads consecutively but whose values
// tile them is not raised: query head h would read different key and value
// heads.


func.func @neg_gqa_mixed(%q: tensor<1x4x8x8xf32>, %k: tensor<1x2x8x8xf32>, %v: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %e1 = tensor.empty() : tensor<1x2x2x8x8xf32>
  %rep2 = linalg.broadcast ins(%k : tensor<1x2x8x8xf32>) outs(%e1 : tensor<1x2x2x8x8xf32>) dimensions = [2]
  %m3 = tensor.collapse_shape %rep2 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x8xf32> into tensor<1x4x8x8xf32>
  %e4 = tensor.empty() : tensor<1x2x2x8x8xf32>
  %tile5 = linalg.broadcast ins(%v : tensor<1x2x8x8xf32>) outs(%e4 : tensor<1x2x2x8x8xf32>) dimensions = [1]
  %m6 = tensor.collapse_shape %tile5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x8x8xf32> into tensor<1x4x8x8xf32>
  %e7 = tensor.empty() : tensor<1x4x8x8xf32>
  %t8 = linalg.transpose ins(%m3 : tensor<1x4x8x8xf32>) outs(%e7 : tensor<1x4x8x8xf32>) permutation = [0, 1, 3, 2]
  %m9 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x8x8xf32> into tensor<4x8x8xf32>
  %m10 = tensor.collapse_shape %t8 [[0, 1], [2], [3]] : tensor<1x4x8x8xf32> into tensor<4x8x8xf32>
  %c11 = arith.constant 0.0 : f32
  %e12 = tensor.empty() : tensor<4x8x8xf32>
  %f13 = linalg.fill ins(%c11 : f32) outs(%e12 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm14 = linalg.batch_matmul ins(%m9, %m10 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f13 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x15 = tensor.expand_shape %bmm14 [[0, 1], [2], [3]] output_shape [1, 4, 8, 8] : tensor<4x8x8xf32> into tensor<1x4x8x8xf32>
  %c16 = arith.constant 3.535533906e-01 : f32
  %e17 = tensor.empty() : tensor<1x4x8x8xf32>
  %scaled18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x15 : tensor<1x4x8x8xf32>) outs(%e17 : tensor<1x4x8x8xf32>) {
  ^bb0(%a0: f32, %acc: f32):
    %s = arith.mulf %a0, %c16 : f32
    linalg.yield %s : f32
  } -> tensor<1x4x8x8xf32>
  %e19 = tensor.empty() : tensor<1x4x8x8xf32>
  // expected-remark @below {{attention not raised: a result dim is read by q k only, which is no}}
  %sm20 = linalg.softmax dimension(3) ins(%scaled18 : tensor<1x4x8x8xf32>) outs(%e19 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %m21 = tensor.collapse_shape %sm20 [[0, 1], [2], [3]] : tensor<1x4x8x8xf32> into tensor<4x8x8xf32>
  %m22 = tensor.collapse_shape %m6 [[0, 1], [2], [3]] : tensor<1x4x8x8xf32> into tensor<4x8x8xf32>
  %c23 = arith.constant 0.0 : f32
  %e24 = tensor.empty() : tensor<4x8x8xf32>
  %f25 = linalg.fill ins(%c23 : f32) outs(%e24 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %bmm26 = linalg.batch_matmul ins(%m21, %m22 : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%f25 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %x27 = tensor.expand_shape %bmm26 [[0, 1], [2], [3]] output_shape [1, 4, 8, 8] : tensor<4x8x8xf32> into tensor<1x4x8x8xf32>
  return %x27 : tensor<1x4x8x8xf32>
}

// -----

// Tests that a TOSA softmax whose reductions run along the query axis is not
// raised.


func.func @neg_tosa_axis(%q: tensor<2x8x8xf32>, %k: tensor<2x8x8xf32>, %v: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  %t1 = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %k2 = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm3 = tosa.matmul %q, %t1, %k2, %k2 : (tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x8x8xf32>
  %k4 = "tosa.const"() <{values = dense<3.535533906e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %k6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %mul5 = tosa.mul %mm3, %k4, %k6 : (tensor<2x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x8x8xf32>
  %reduce_max7 = tosa.reduce_max %mul5 {axis = 1 : i32} : (tensor<2x8x8xf32>) -> tensor<2x1x8xf32>
  %sub8 = tosa.sub %mul5, %reduce_max7 : (tensor<2x8x8xf32>, tensor<2x1x8xf32>) -> tensor<2x8x8xf32>
  %exp9 = tosa.exp %sub8 : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %reduce_sum10 = tosa.reduce_sum %exp9 {axis = 1 : i32} : (tensor<2x8x8xf32>) -> tensor<2x1x8xf32>
  %reciprocal11 = tosa.reciprocal %reduce_sum10 : (tensor<2x1x8xf32>) -> tensor<2x1x8xf32>
  // expected-remark @below {{attention not raised: the softmax does not normalize along the dim that}}
  %mul12 = tosa.mul %exp9, %reciprocal11, %k6 : (tensor<2x8x8xf32>, tensor<2x1x8xf32>, tensor<1xi8>) -> tensor<2x8x8xf32>
  %mm13 = tosa.matmul %mul12, %v, %k2, %k2 : (tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x8x8xf32>
  return %mm13 : tensor<2x8x8xf32>
}

// -----

// Tests that a TOSA constant mask that drops the diagonal is not causal.


func.func @neg_tosa_mask(%q: tensor<2x8x8xf32>, %k: tensor<2x8x8xf32>, %v: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  %t1 = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %k2 = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %mm3 = tosa.matmul %q, %t1, %k2, %k2 : (tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x8x8xf32>
  %k4 = "tosa.const"() <{values = dense<3.535533906e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %k6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %mul5 = tosa.mul %mm3, %k4, %k6 : (tensor<2x8x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x8x8xf32>
  %k7 = "tosa.const"() <{values = dense<[[[0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000]]]> : tensor<1x8x8xf32>}> : () -> tensor<1x8x8xf32>
  %add8 = tosa.add %mul5, %k7 : (tensor<2x8x8xf32>, tensor<1x8x8xf32>) -> tensor<2x8x8xf32>
  %reduce_max9 = tosa.reduce_max %add8 {axis = 2 : i32} : (tensor<2x8x8xf32>) -> tensor<2x8x1xf32>
  %sub10 = tosa.sub %add8, %reduce_max9 : (tensor<2x8x8xf32>, tensor<2x8x1xf32>) -> tensor<2x8x8xf32>
  %exp11 = tosa.exp %sub10 : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %reduce_sum12 = tosa.reduce_sum %exp11 {axis = 2 : i32} : (tensor<2x8x8xf32>) -> tensor<2x8x1xf32>
  %reciprocal13 = tosa.reciprocal %reduce_sum12 : (tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  // expected-remark @below {{attention not raised: the mask drops key 0 of query 0, which causal}}
  %mul14 = tosa.mul %exp11, %reciprocal13, %k6 : (tensor<2x8x8xf32>, tensor<2x8x1xf32>, tensor<1xi8>) -> tensor<2x8x8xf32>
  %mm15 = tosa.matmul %mul14, %v, %k2, %k2 : (tensor<2x8x8xf32>, tensor<2x8x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x8x8xf32>
  return %mm15 : tensor<2x8x8xf32>
}

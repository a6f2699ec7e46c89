// RUN: tucker-opt %s --tucker-flash-to-linalg -split-input-file | FileCheck %s
// RUN: tucker-opt %s --tucker-flash-to-linalg="query-tile=2 key-tile=16" -split-input-file | FileCheck %s --check-prefix=TILE

// Tests that tucker.flash_backward becomes D = rowsum(dO ∘ O) once, then a
// key-tile loop carrying dQ (f32, whole) and dK, dV (f32, whole) around a
// query-tile loop carrying dQ and the key tile's dK and dV; per tile
// S = Q·Kᵀ, P = exp2(S·c − lse·log2 e), dV += Pᵀ·dO and dK += dSᵀ·Q
// reducing over the group's heads and the tile's rows, dP = dO·Vᵀ,
// dS = P·(dP − D) (0 where P is 0), dQ += dS·K; dQ and dK are scaled by
// 1/√16 at the end. Without causal or lengths nothing is masked and the
// query loop starts at 0.

// CHECK-DAG: #[[$ID5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$Q:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[$K:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5)>
// CHECK-DAG: #[[$S:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$PT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5, d2)>
// CHECK-DAG: #[[$DOT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5, d3)>
// CHECK-DAG: #[[$KV:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$KD:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5, d4)>

// CHECK-LABEL: func.func @flash_backward_gqa
// CHECK-SAME: (%[[Q:.+]]: tensor<2x4x128x16xf32>, %[[K:.+]]: tensor<2x2x128x16xf32>, %[[V:.+]]: tensor<2x2x128x8xf32>, %[[O:.+]]: tensor<2x4x128x8xf32>, %[[LSE:.+]]: tensor<2x4x128xf32>, %[[DO:.+]]: tensor<2x4x128x8xf32>)
// CHECK-DAG: %[[Q5:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 2, 128, 16]
// CHECK-DAG: %[[O5:.+]] = tensor.expand_shape %[[O]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 2, 128, 8]
// CHECK-DAG: %[[DO5:.+]] = tensor.expand_shape %[[DO]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 2, 128, 8]
// CHECK-DAG: %[[LSE4:.+]] = tensor.expand_shape %[[LSE]] {{\[}}[0], [1, 2], [3]] output_shape [2, 2, 2, 128]
// CHECK: %[[DELTA:.+]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ID5]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[DO5]], %[[O5]] :
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK-DAG: %[[C:.+]] = arith.constant 0.360673755 : f32
// CHECK-DAG: %[[LOG2E:.+]] = arith.constant 1.44269502 : f32
// CHECK: %[[GRADS:.+]]:3 = scf.for %[[KS:.+]] = %[[C0]] to %[[C128]] step %[[C64]] iter_args(%[[DQ:.+]] = %{{.+}}, %[[DK:.+]] = %{{.+}}, %[[DV:.+]] = %{{.+}}) -> (tensor<2x2x2x128x16xf32>, tensor<2x2x128x16xf32>, tensor<2x2x128x8xf32>)
// CHECK:   %[[KT:.+]] = tensor.extract_slice %[[K]][0, 0, %[[KS]], 0] [2, 2, 64, 16]
// CHECK:   %[[VT:.+]] = tensor.extract_slice %[[V]][0, 0, %[[KS]], 0] [2, 2, 64, 8]
// CHECK:   %[[INNER:.+]]:3 = scf.for %[[QS:.+]] = %[[C0]] to %[[C128]] step %[[C64]] iter_args(%[[DQI:.+]] = %[[DQ]], %[[DKT:.+]] = %{{.+}}, %[[DVT:.+]] = %{{.+}}) -> (tensor<2x2x2x128x16xf32>, tensor<2x2x64x16xf32>, tensor<2x2x64x8xf32>)
// CHECK:     %[[QT:.+]] = tensor.extract_slice %[[Q5]][0, 0, 0, %[[QS]], 0] [2, 2, 2, 64, 16]
// CHECK:     %[[DOT_:.+]] = tensor.extract_slice %[[DO5]][0, 0, 0, %[[QS]], 0] [2, 2, 2, 64, 8]
// CHECK:     %[[LT:.+]] = tensor.extract_slice %[[LSE4]][0, 0, 0, %[[QS]]] [2, 2, 2, 64]
// CHECK:     %[[DT:.+]] = tensor.extract_slice %[[DELTA]][0, 0, 0, %[[QS]]] [2, 2, 2, 64]
// CHECK:     %[[SC:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$K]], #[[$S]]], {{.*}} ins(%[[QT]], %[[KT]] :
// CHECK:     %[[P:.+]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]], #[[$ID5]]], {{.*}} ins(%[[SC]], %[[LT]] :
// CHECK:     ^bb0(%[[X:.+]]: f32, %[[L:.+]]: f32, %{{.+}}: f32):
// CHECK:       %[[XS:.+]] = arith.mulf %[[X]], %[[C]]
// CHECK:       %[[LS:.+]] = arith.mulf %[[L]], %[[LOG2E]]
// CHECK:       %[[E:.+]] = arith.subf %[[XS]], %[[LS]]
// CHECK:       math.exp2 %[[E]]
// CHECK-NOT:   arith.select
// CHECK:     %[[NDV:.+]] = linalg.generic {indexing_maps = [#[[$PT]], #[[$DOT]], #[[$KV]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[P]], %[[DOT_]] : {{.*}}) outs(%[[DVT]] :
// CHECK:     %[[DP:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$K]], #[[$S]]], {{.*}} ins(%[[DOT_]], %[[VT]] :
// CHECK:     %[[DS:.+]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ID5]], #[[$ROW]], #[[$ID5]]], {{.*}} ins(%[[P]], %[[DP]], %[[DT]] :
// CHECK:     ^bb0(%[[PP:.+]]: f32, %[[DPP:.+]]: f32, %[[DD:.+]]: f32, %{{.+}}: f32):
// CHECK:       %[[DIFF:.+]] = arith.subf %[[DPP]], %[[DD]]
// CHECK:       %[[G:.+]] = arith.mulf %[[PP]], %[[DIFF]]
// CHECK:       %[[Z:.+]] = arith.cmpf oeq, %[[PP]], %{{.+}}
// CHECK:       arith.select %[[Z]], %{{.+}}, %[[G]]
// CHECK:     %[[DQT:.+]] = tensor.extract_slice %[[DQI]][0, 0, 0, %[[QS]], 0] [2, 2, 2, 64, 16]
// CHECK:     %[[NDQT:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$KD]], #[[$S]]], {{.*}} ins(%[[DS]], %[[KT]] : {{.*}}) outs(%[[DQT]] :
// CHECK:     %[[NDQ:.+]] = tensor.insert_slice %[[NDQT]] into %[[DQI]][0, 0, 0, %[[QS]], 0] [2, 2, 2, 64, 16]
// CHECK:     %[[NDK:.+]] = linalg.generic {indexing_maps = [#[[$PT]], #[[$DOT]], #[[$KV]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[DS]], %[[QT]] : {{.*}}) outs(%[[DKT]] :
// CHECK:     scf.yield %[[NDQ]], %[[NDK]], %[[NDV]]
// CHECK:   tensor.insert_slice %[[INNER]]#1 into %[[DK]][0, 0, %[[KS]], 0] [2, 2, 64, 16]
// CHECK:   tensor.insert_slice %[[INNER]]#2 into %[[DV]][0, 0, %[[KS]], 0] [2, 2, 64, 8]
// CHECK: %[[DQC:.+]] = tensor.collapse_shape %[[GRADS]]#0 {{\[}}[0], [1, 2], [3], [4]] : tensor<2x2x2x128x16xf32> into tensor<2x4x128x16xf32>
// CHECK: %[[QSCALE:.+]] = arith.constant 2.500000e-01 : f32
// CHECK: %[[RDQ:.+]] = linalg.generic {{.*}} ins(%[[DQC]] :
// CHECK:   arith.mulf %{{.+}}, %[[QSCALE]]
// CHECK: %[[RDK:.+]] = linalg.generic {{.*}} ins(%[[GRADS]]#1 :
// CHECK:   arith.mulf %{{.+}}, %[[QSCALE]]
// CHECK: return %[[RDQ]], %[[RDK]], %[[GRADS]]#2
func.func @flash_backward_gqa(%q: tensor<2x4x128x16xf32>, %k: tensor<2x2x128x16xf32>,
                              %v: tensor<2x2x128x8xf32>, %o: tensor<2x4x128x8xf32>,
                              %lse: tensor<2x4x128xf32>, %do: tensor<2x4x128x8xf32>)
    -> (tensor<2x4x128x16xf32>, tensor<2x2x128x16xf32>, tensor<2x2x128x8xf32>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do
      : tensor<2x4x128x16xf32>, tensor<2x2x128x16xf32>, tensor<2x2x128x8xf32>,
        tensor<2x4x128x8xf32>, tensor<2x4x128xf32>, tensor<2x4x128x8xf32>
      -> tensor<2x4x128x16xf32>, tensor<2x2x128x16xf32>, tensor<2x2x128x8xf32>
  return %dq, %dk, %dv : tensor<2x4x128x16xf32>, tensor<2x2x128x16xf32>, tensor<2x2x128x8xf32>
}

// -----

// Tests that with lengths, causal and rope: q and k are rotated (f32) before
// the products; the key loop ends at the largest key count; the query loop of
// a key tile starts at the tile that holds the first query that sees it,
// (max(keyStart − max_b(L_b − Nq), 0) / tq)·tq; P is 0 where the mask hides
// the key (row i of sequence b sees column j iff j <= i + queryStart − Nq +
// L_b − keyStart); dQ skips the products of a zero dS (a hidden key's K may
// be NaN); and the rotation is undone on dQ and dK (the inverse rotation
// swaps the signs: x·cos + partner·sin first) before they become bf16.

// TILE-LABEL: func.func @flash_backward_causal_lengths_rope
// TILE: %[[FEWEST:.+]] = tensor.extract %{{.+}}[] : tensor<index>
// TILE: %[[MOST:.+]] = tensor.extract %{{.+}}[] : tensor<index>
// TILE: math.cos
// TILE: math.sin
// TILE: scf.for %[[KS:.+]] = %{{.+}} to %[[MOST]] step %[[C16:.+]] iter_args
// TILE:   %[[FIRST:.+]] = arith.maxsi %{{.+}}, %{{.+}} : index
// TILE:   %[[DIV:.+]] = arith.divsi %[[FIRST]], %[[C2:.+]] : index
// TILE:   %[[LOWER:.+]] = arith.muli %[[DIV]], %[[C2]] : index
// TILE:   scf.for %{{.+}} = %[[LOWER]] to %{{.+}} step %[[C2]] iter_args
// TILE:     math.exp2
// TILE:     %[[SEES:.+]] = arith.cmpi sle, %{{.+}}, %{{.+}} : index
// TILE:     arith.select %[[SEES]], %{{.+}}, %{{.+}} : f32
// TILE:     arith.cmpf oeq
// TILE:     arith.select
// TILE:     linalg.generic
// TILE:       %[[ZERO:.+]] = arith.cmpf oeq, %{{.+}}, %{{.+}} : f32
// TILE:       arith.select %[[ZERO]], %[[OUT:.+]], %{{.+}} : f32
// TILE: math.cos
// TILE: %[[SELF:.+]] = arith.mulf
// TILE: %[[PART:.+]] = arith.mulf
// TILE: %[[FIRSTSIDE:.+]] = arith.cmpi eq
// TILE: %[[MINUS:.+]] = arith.subf %[[SELF]], %[[PART]]
// TILE: %[[PLUS:.+]] = arith.addf %[[SELF]], %[[PART]]
// TILE: arith.select %[[FIRSTSIDE]], %[[PLUS]], %[[MINUS]]
// TILE: arith.truncf %{{.+}} : f32 to bf16
// TILE: return
func.func @flash_backward_causal_lengths_rope(
    %q: tensor<2x2x4x16xbf16>, %k: tensor<2x1x40x16xbf16>,
    %v: tensor<2x1x40x8xbf16>, %o: tensor<2x2x4x8xbf16>,
    %lse: tensor<2x2x4xf32>, %do: tensor<2x2x4x8xbf16>, %len: tensor<2xi32>)
    -> (tensor<2x2x4x16xbf16>, tensor<2x1x40x16xbf16>, tensor<2x1x40x8xbf16>) {
  %dq, %dk, %dv = tucker.flash_backward %q, %k, %v, %o, %lse, %do
      lengths(%len : tensor<2xi32>)
      {causal, rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<2x2x4x16xbf16>, tensor<2x1x40x16xbf16>, tensor<2x1x40x8xbf16>,
        tensor<2x2x4x8xbf16>, tensor<2x2x4xf32>, tensor<2x2x4x8xbf16>
      -> tensor<2x2x4x16xbf16>, tensor<2x1x40x16xbf16>, tensor<2x1x40x8xbf16>
  return %dq, %dk, %dv : tensor<2x2x4x16xbf16>, tensor<2x1x40x16xbf16>, tensor<2x1x40x8xbf16>
}

// RUN: tucker-opt %s --tucker-flash-to-linalg -split-input-file | FileCheck %s
// RUN: tucker-opt %s --tucker-flash-to-linalg="query-tile=16 key-tile=32" -split-input-file | FileCheck %s --check-prefix=TILE
// RUN: tucker-opt %s --tucker-flash-to-linalg -split-input-file --verify-roundtrip > /dev/null

// Tests that a non-causal flash becomes a query-tile loop around a key-tile
// loop carrying the row max, the row sum and the accumulator, with S = Q·Kᵀ
// and O += P·V as contractions, exp2 with scale·log2(e) folded into one
// constant (1/√16 · log2 e), the rescale of l and O by alpha, and O / l
// guarded against l = 0. GQA: q is split into [B, Hkv, G, Nq, D]; k is
// transposed once to [B, Hkv, D, Nk] (a key tile is [D, tk], keys
// contiguous), and Kᵀ and v are read per kv head through the indexing maps
// (the same map: (b, hk, c, r) for S's reduction c = d and P·V's c = j).
// Static multiples of the tile keep static tile shapes.

// CHECK-DAG: #[[$Q:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[$KV:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5, d4)>
// CHECK-DAG: #[[$S:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$ID5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// CHECK-LABEL: func.func @flash_gqa
// CHECK-SAME: (%[[Q:.+]]: tensor<2x4x128x16xf32>, %[[K:.+]]: tensor<2x2x128x16xf32>, %[[V:.+]]: tensor<2x2x128x8xf32>)
// CHECK: %[[Q5:.+]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 2, 128, 16]
// CHECK-SAME: into tensor<2x2x2x128x16xf32>
// CHECK: %[[KTR:.+]] = linalg.transpose ins(%[[K]] : tensor<2x2x128x16xf32>) outs(%{{.+}} : tensor<2x2x16x128xf32>) permutation = [0, 1, 3, 2]
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK-DAG: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 0.360673755 : f32
// CHECK: %[[OUT:.+]] = scf.for %[[QS:.+]] = %[[C0]] to %[[C128]] step %[[C64]] iter_args(%{{.+}} = %{{.+}}) -> (tensor<2x2x2x128x8xf32>)
// CHECK:   %[[QT:.+]] = tensor.extract_slice %[[Q5]][0, 0, 0, %[[QS]], 0] [2, 2, 2, 64, 16]
// CHECK:   %[[M0:.+]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.+}} : tensor<2x2x2x64xf32>)
// CHECK:   %[[STATE:.+]]:3 = scf.for %[[KS:.+]] = %[[C0]] to %[[C128]] step %[[C64]] iter_args(%[[M:.+]] = %[[M0]], %[[L:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}}) -> (tensor<2x2x2x64xf32>, tensor<2x2x2x64xf32>, tensor<2x2x2x64x8xf32>)
// CHECK:     %[[KT:.+]] = tensor.extract_slice %[[KTR]][0, 0, 0, %[[KS]]] [2, 2, 16, 64]
// CHECK:     %[[VT:.+]] = tensor.extract_slice %[[V]][0, 0, %[[KS]], 0] [2, 2, 64, 8]
// CHECK:     %[[SC:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$KV]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:    ins(%[[QT]], %[[KT]] : {{.*}}) outs(%{{.+}} : tensor<2x2x2x64x64xf32>)
// CHECK:       arith.mulf
// CHECK:       arith.addf
// CHECK:     %[[TMAX:.+]] = linalg.generic {{.*}} ins(%[[SC]] : {{.*}})
// CHECK:       arith.maximumf
// CHECK:     %[[ST:.+]]:4 = linalg.generic {{.*}} ins(%[[TMAX]] : {{.*}}) outs(%[[M]], %{{.+}}, %{{.+}}, %[[L]] :
// CHECK:     ^bb0(%[[TM:.+]]: f32, %[[MOLD:.+]]: f32, %{{.+}}: f32, %{{.+}}: f32, %[[LOLD:.+]]: f32):
// CHECK:       %[[SCALED:.+]] = arith.mulf %[[TM]], %[[SCALE]]
// CHECK:       %[[MNEW:.+]] = arith.maximumf %[[MOLD]], %[[SCALED]]
// CHECK:       %[[NONE:.+]] = arith.cmpf oeq, %[[MNEW]], %[[NINF]]
// CHECK:       %[[SHIFT:.+]] = arith.select %[[NONE]], %{{.+}}, %[[MNEW]]
// CHECK:       %[[DIFF:.+]] = arith.subf %[[MOLD]], %[[SHIFT]]
// CHECK:       %[[ALPHA:.+]] = math.exp2 %[[DIFF]]
// CHECK:       %[[LSCALED:.+]] = arith.mulf %[[LOLD]], %[[ALPHA]]
// CHECK:       linalg.yield %[[MNEW]], %[[SHIFT]], %[[ALPHA]], %[[LSCALED]]
// CHECK:     %[[P:.+]] = linalg.generic {{.*}} ins(%[[SC]], %[[ST]]#1 : {{.*}})
// CHECK:       arith.mulf %{{.+}}, %[[SCALE]]
// CHECK:       arith.subf
// CHECK:       math.exp2
// CHECK:     %[[LNEW:.+]] = linalg.generic {indexing_maps = [#[[$ID5]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[P]] : {{.*}}) outs(%[[ST]]#3 :
// CHECK:       arith.addf
// CHECK:     %[[RESCALED:.+]] = linalg.generic {indexing_maps = [#[[$ROW]], #[[$ID5]]], {{.*}} ins(%[[ST]]#2 : {{.*}}) outs(%[[ACC]] :
// CHECK:       arith.mulf
// CHECK:     %[[PV:.+]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$KV]], #[[$S]]], {{.*}} ins(%[[P]], %[[VT]] : {{.*}}) outs(%[[RESCALED]] :
// CHECK:     scf.yield %[[ST]]#0, %[[LNEW]], %[[PV]]
// CHECK-NOT: scf.for
// CHECK:   %[[NORM:.+]] = linalg.generic {{.*}} ins(%[[STATE]]#2, %[[STATE]]#1 : {{.*}})
// CHECK:   ^bb0(%[[O:.+]]: f32, %[[SUM:.+]]: f32, %{{.+}}: f32):
// CHECK:     %[[EMPTY:.+]] = arith.cmpf oeq, %[[SUM]], %{{.+}}
// CHECK:     %[[DEN:.+]] = arith.select %[[EMPTY]], %{{.+}}, %[[SUM]]
// CHECK:     arith.divf %[[O]], %[[DEN]]
// CHECK:   tensor.insert_slice %[[NORM]] into %{{.+}}[0, 0, 0, %[[QS]], 0] [2, 2, 2, 64, 8]
// CHECK: %[[RES:.+]] = tensor.collapse_shape %[[OUT]] {{\[}}[0], [1, 2], [3], [4]] : tensor<2x2x2x128x8xf32> into tensor<2x4x128x8xf32>
// CHECK: return %[[RES]]
// CHECK-NOT: tucker.flash

// TILE-LABEL: func.func @flash_gqa
// TILE-DAG: %[[C16:.+]] = arith.constant 16 : index
// TILE-DAG: %[[C32:.+]] = arith.constant 32 : index
// TILE: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C16]]
// TILE:   tensor.extract_slice {{.*}} [2, 2, 2, 16, 16]
// TILE:   scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C32]]
// TILE:     linalg.fill {{.*}} -> tensor<2x2x2x16x32xf32>
func.func @flash_gqa(%q: tensor<2x4x128x16xf32>, %k: tensor<2x2x128x16xf32>,
                     %v: tensor<2x2x128x8xf32>) -> tensor<2x4x128x8xf32> {
  %o = tucker.flash %q, %k, %v
      : tensor<2x4x128x16xf32>, tensor<2x2x128x16xf32>, tensor<2x2x128x8xf32>
        -> tensor<2x4x128x8xf32>
  return %o : tensor<2x4x128x8xf32>
}

// -----

// Tests causal attention with Nq = 100, Nk = 150 (no multiples of 64): the
// query tiles are a loop of whole 64-row tiles and one of the 36-row tail,
// each with static shapes. Per query tile the key loop ends at
// min(start + rows + Nk − Nq, Nk) and is split into an unmasked part
// [0, full) and a masked part [full, end), where only the second masks
// (j > i + start + Nk − Nq − keyStart gets −inf, and adds nothing to P·V);
// each part is a loop of whole 64-key tiles (below ⌊150 / 64⌋·64 = 128) and
// one of the 22-key tail.

// CHECK-LABEL: func.func @flash_causal_tails
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x100x16xf32>, %[[K:.+]]: tensor<1x4x150x16xf32>, %[[V:.+]]: tensor<1x4x150x8xf32>)
// CHECK: %[[KTR:.+]] = linalg.transpose ins(%[[K]] : tensor<1x4x150x16xf32>)
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK-DAG: %[[C150:.+]] = arith.constant 150 : index
// CHECK-DAG: %[[C50:.+]] = arith.constant 50 : index
// CHECK-DAG: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[WHOLEQ:.+]] = scf.for %[[QS:.+]] = %[[C0]] to %[[C64]] step %[[C64]]
// CHECK:   tensor.extract_slice %{{.+}}[0, 0, 0, %[[QS]], 0] [1, 4, 1, 64, 16]
// CHECK:   %[[LIMIT:.+]] = arith.addi %[[QS]], %[[C50]]
// CHECK:   %[[LAST:.+]] = arith.addi %[[LIMIT]], %[[C64]]
// CHECK:   %[[END:.+]] = arith.minsi %[[LAST]], %[[C150]]
// CHECK:   %[[FIRST:.+]] = arith.addi %[[LIMIT]], %[[C1]]
// CHECK:   %[[POS:.+]] = arith.maxsi %[[FIRST]], %[[C0]]
// CHECK:   %[[NT:.+]] = arith.divsi %[[POS]], %[[C64]]
// CHECK:   %[[WHOLE:.+]] = arith.muli %[[NT]], %[[C64]]
// CHECK:   %[[ALL:.+]] = arith.cmpi sge, %[[FIRST]], %[[C150]]
// CHECK:   %[[FULL:.+]] = arith.select %[[ALL]], %[[C150]], %[[WHOLE]]
// CHECK:   %[[FULLW:.+]] = arith.minsi %[[FULL]], %[[C128]]
// CHECK:   %[[SPLIT:.+]] = arith.maxsi %[[C0]], %[[FULLW]]
// CHECK:   %[[UNMASKED:.+]]:3 = scf.for %[[KS:.+]] = %[[C0]] to %[[SPLIT]] step %[[C64]]
// CHECK:     tensor.extract_slice %[[KTR]][0, 0, 0, %[[KS]]] [1, 4, 16, 64]
// CHECK-NOT: linalg.index
// CHECK:     math.exp2
// CHECK:     scf.yield
// CHECK:   %[[UNMASKEDTAIL:.+]]:3 = scf.for %[[KST:.+]] = %[[SPLIT]] to %[[FULL]] step %[[C64]] iter_args(%{{.+}} = %[[UNMASKED]]#0, %{{.+}} = %[[UNMASKED]]#1, %{{.+}} = %[[UNMASKED]]#2)
// CHECK:     tensor.extract_slice %[[KTR]][0, 0, 0, %[[KST]]] [1, 4, 16, 22]
// CHECK-NOT: linalg.index
// CHECK:     scf.yield
// CHECK:   %[[ENDW:.+]] = arith.minsi %[[END]], %[[C128]]
// CHECK:   %[[MSPLIT:.+]] = arith.maxsi %[[FULL]], %[[ENDW]]
// CHECK:   %[[MASKED:.+]]:3 = scf.for %[[KS2:.+]] = %[[FULL]] to %[[MSPLIT]] step %[[C64]] iter_args(%{{.+}} = %[[UNMASKEDTAIL]]#0, %{{.+}} = %[[UNMASKEDTAIL]]#1, %{{.+}} = %[[UNMASKEDTAIL]]#2)
// CHECK:     %[[SC:.+]] = linalg.generic
// CHECK:     %[[OFF:.+]] = arith.subi %[[LIMIT]], %[[KS2]]
// CHECK:     linalg.generic {{.*}} outs(%[[SC]] :
// CHECK:       %[[I:.+]] = linalg.index 3
// CHECK:       %[[J:.+]] = linalg.index 4
// CHECK:       %[[JMAX:.+]] = arith.addi %[[I]], %[[OFF]]
// CHECK:       %[[SEEN:.+]] = arith.cmpi sle, %[[J]], %[[JMAX]]
// CHECK:       arith.select %[[SEEN]], %{{.+}}, %[[NINF]]
// CHECK:     math.exp2
// The masked P·V adds 0 for the keys a row does not see (no 0·NaN from
// them: the select never reads their product).
// CHECK:     linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x4x1x64x64xf32>, tensor<1x4x64x8xf32>)
// CHECK:     ^bb0(%{{.+}}: f32, %{{.+}}: f32, %[[OLD:.+]]: f32):
// CHECK:       %[[PROD:.+]] = arith.mulf
// CHECK:       %[[PI:.+]] = linalg.index 3
// CHECK:       %[[PJ:.+]] = linalg.index 5
// CHECK:       %[[PJMAX:.+]] = arith.addi %[[PI]], %[[OFF]]
// CHECK:       %[[PSEEN:.+]] = arith.cmpi sle, %[[PJ]], %[[PJMAX]]
// CHECK:       %[[TERM:.+]] = arith.select %[[PSEEN]], %[[PROD]], %{{.+}}
// CHECK:       arith.addf %[[OLD]], %[[TERM]]
// CHECK:     scf.yield
// CHECK:   %[[MASKEDTAIL:.+]]:3 = scf.for %{{.+}} = %[[MSPLIT]] to %[[END]] step %[[C64]] iter_args(%{{.+}} = %[[MASKED]]#0, %{{.+}} = %[[MASKED]]#1, %{{.+}} = %[[MASKED]]#2)
// CHECK:     linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x4x1x64x22xf32>, tensor<1x4x22x8xf32>)
// CHECK:       linalg.index 5
// CHECK:     scf.yield
// CHECK:   linalg.generic {{.*}} ins(%[[MASKEDTAIL]]#2, %[[MASKEDTAIL]]#1
// CHECK:   arith.divf
// CHECK:   tensor.insert_slice {{.*}}[0, 0, 0, %[[QS]], 0] [1, 4, 1, 64, 8]
// CHECK: %[[C100:.+]] = arith.constant 100 : index
// CHECK: scf.for %[[QST:.+]] = %[[C64]] to %[[C100]] step %[[C64]] iter_args(%{{.+}} = %[[WHOLEQ]])
// CHECK:   tensor.extract_slice %{{.+}}[0, 0, 0, %[[QST]], 0] [1, 4, 1, 36, 16]
// CHECK:   tensor.insert_slice {{.*}}[0, 0, 0, %[[QST]], 0] [1, 4, 1, 36, 8]
func.func @flash_causal_tails(%q: tensor<1x4x100x16xf32>, %k: tensor<1x4x150x16xf32>,
                              %v: tensor<1x4x150x8xf32>) -> tensor<1x4x100x8xf32> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<1x4x100x16xf32>, tensor<1x4x150x16xf32>, tensor<1x4x150x8xf32>
        -> tensor<1x4x100x8xf32>
  return %o : tensor<1x4x100x8xf32>
}

// -----

// Tests dynamic B, Nq, Nk (tensor.dim of q and k) and bf16: products and
// softmax in f32 (extf in the contraction bodies), the result truncated to
// bf16; an explicit scale (0.5 · log2 e).

// CHECK-LABEL: func.func @flash_dynamic_bf16
// CHECK-SAME: (%[[Q:.+]]: tensor<?x8x?x64xbf16>, %[[K:.+]]: tensor<?x2x?x64xbf16>, %[[V:.+]]: tensor<?x2x?x32xbf16>)
// CHECK-DAG: %[[B:.+]] = tensor.dim %[[Q]], %{{.+}} : tensor<?x8x?x64xbf16>
// CHECK-DAG: %[[NQ:.+]] = tensor.dim %[[Q]], %{{.+}} : tensor<?x8x?x64xbf16>
// CHECK-DAG: %[[NK:.+]] = tensor.dim %[[K]], %{{.+}} : tensor<?x2x?x64xbf16>
// CHECK: tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2], [3], [4]] output_shape [%[[B]], 2, 4, %[[NQ]], 64] : tensor<?x8x?x64xbf16> into tensor<?x2x4x?x64xbf16>
// CHECK-DAG: arith.constant 0.72134751 : f32
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[NQ]] step
// CHECK:   scf.for %{{.+}} = %{{.+}} to %[[NK]] step
// CHECK:     linalg.generic
// CHECK:     ^bb0(%[[A:.+]]: bf16, %[[BB:.+]]: bf16, %{{.+}}: f32):
// CHECK:       %[[AF:.+]] = arith.extf %[[A]] : bf16 to f32
// CHECK:       %[[BF:.+]] = arith.extf %[[BB]] : bf16 to f32
// CHECK:       arith.mulf %[[AF]], %[[BF]]
// CHECK:   linalg.generic
// CHECK:     arith.divf
// CHECK:     arith.truncf %{{.+}} : f32 to bf16
// CHECK: tensor.collapse_shape {{.*}} : tensor<?x2x4x?x32xbf16> into tensor<?x8x?x32xbf16>
func.func @flash_dynamic_bf16(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                              %v: tensor<?x2x?x32xbf16>) -> tensor<?x8x?x32xbf16> {
  %o = tucker.flash %q, %k, %v {scale = 0.5 : f64}
      : tensor<?x8x?x64xbf16>, tensor<?x2x?x64xbf16>, tensor<?x2x?x32xbf16>
        -> tensor<?x8x?x32xbf16>
  return %o : tensor<?x8x?x32xbf16>
}

// -----

// Tests a flash rope: q (positions m + Nk − Nq = m + 8) and k (positions n)
// are rotated first, into f32, by a cos/sin table computed in f64 and one
// elementwise generic; the loops read the rotated tensors. Sequences shorter
// than the tile get one static tile.

// CHECK-LABEL: func.func @flash_rope
// CHECK-SAME: (%[[Q:.+]]: tensor<1x2x16x32xf16>, %[[K:.+]]: tensor<1x1x24x32xf16>, %[[V:.+]]: tensor<1x1x24x32xf16>)
// CHECK: %[[QTAB:.+]]:2 = linalg.generic {{.*}} outs(%{{.+}}, %{{.+}} : tensor<16x16xf32>, tensor<16x16xf32>)
// CHECK:   %[[QN:.+]] = linalg.index 0
// CHECK:   %[[QPOS:.+]] = arith.addi %[[QN]], %{{.+}}
// CHECK:   arith.index_cast %[[QPOS]]
// CHECK:   math.cos %{{.+}} : f64
// CHECK:   math.sin %{{.+}} : f64
// CHECK: %[[QROT:.+]] = linalg.generic {{.*}} ins(%[[Q]], %[[Q]], %[[QTAB]]#0, %[[QTAB]]#1 : {{.*}}) outs(%{{.+}} : tensor<1x2x16x1x2x16xf32>)
// CHECK:   arith.extf
// CHECK:   arith.select
// CHECK: %[[QR:.+]] = tensor.collapse_shape %[[QROT]] {{\[}}[0], [1], [2], [3, 4, 5]] : tensor<1x2x16x1x2x16xf32> into tensor<1x2x16x32xf32>
// CHECK: %[[KTAB:.+]]:2 = linalg.generic {{.*}} outs(%{{.+}}, %{{.+}} : tensor<24x16xf32>, tensor<24x16xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[K]], %[[K]], %[[KTAB]]#0, %[[KTAB]]#1 : {{.*}})
// CHECK: %[[KR:.+]] = tensor.collapse_shape {{.*}} into tensor<1x1x24x32xf32>
// CHECK: tensor.expand_shape %[[QR]] {{.*}} into tensor<1x1x2x16x32xf32>
// CHECK: %[[KRT:.+]] = linalg.transpose ins(%[[KR]] : tensor<1x1x24x32xf32>) outs(%{{.+}} : tensor<1x1x32x24xf32>)
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     tensor.extract_slice %[[KRT]]{{.*}} [1, 1, 32, 24]
// CHECK:     tensor.extract_slice %[[V]]{{.*}} [1, 1, 24, 32]
// CHECK:   arith.truncf %{{.+}} : f32 to f16
func.func @flash_rope(%q: tensor<1x2x16x32xf16>, %k: tensor<1x1x24x32xf16>,
                      %v: tensor<1x1x24x32xf16>) -> tensor<1x2x16x32xf16> {
  %o = tucker.flash %q, %k, %v
      {causal, rope = #tucker.rope<theta = 10000.0, width = 32, style = half>}
      : tensor<1x2x16x32xf16>, tensor<1x1x24x32xf16>, tensor<1x1x24x32xf16>
        -> tensor<1x2x16x32xf16>
  return %o : tensor<1x2x16x32xf16>
}

// -----

// Tests tucker.rope, style half, default positions: the table [N, width/2]
// uses the sequence index; the pair (j, j + width/2) of each of the two
// blocks is read through affine maps (offset 4 + 8r + 4s + j and its partner
// at side 1 − s), the rotated span is written back over dims [4, 20) and the
// element type is kept.

// CHECK-DAG: #[[$TAB:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[$SELF:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3 * 8 + d4 * 4 + d5 + 4)>
// CHECK-DAG: #[[$PARTNER:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3 * 8 - d4 * 4 + d5 + 8)>
// CHECK-DAG: #[[$ANGLE:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d2, d5)>
// CHECK-LABEL: func.func @rope_half
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x10x24xbf16>)
// CHECK: %[[FREQ:.+]] = arith.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf64>
// CHECK: %[[TAB:.+]]:2 = linalg.generic {indexing_maps = [#[[$TAB]], {{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[FREQ]] : tensor<4xf64>) outs(%{{.+}}, %{{.+}} : tensor<10x4xf32>, tensor<10x4xf32>)
// CHECK: ^bb0(%[[F:.+]]: f64,
// CHECK:   %[[N:.+]] = linalg.index 0 : index
// CHECK:   %[[NI:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK:   %[[NF:.+]] = arith.sitofp %[[NI]] : i64 to f64
// CHECK:   %[[ANG:.+]] = arith.mulf %[[NF]], %[[F]] : f64
// CHECK:   %[[COS:.+]] = math.cos %[[ANG]] : f64
// CHECK:   %[[SIN:.+]] = math.sin %[[ANG]] : f64
// CHECK:   arith.truncf %[[COS]] : f64 to f32
// CHECK:   arith.truncf %[[SIN]] : f64 to f32
// CHECK: %[[ROT:.+]] = linalg.generic {indexing_maps = [#[[$SELF]], #[[$PARTNER]], #[[$ANGLE]], #[[$ANGLE]], {{.*}}]
// CHECK-SAME: ins(%[[X]], %[[X]], %[[TAB]]#0, %[[TAB]]#1 : {{.*}}) outs(%{{.+}} : tensor<2x3x10x2x2x4xbf16>)
// CHECK: ^bb0(%[[A:.+]]: bf16, %[[P:.+]]: bf16, %[[C:.+]]: f32, %[[S:.+]]: f32, %{{.+}}: bf16):
// CHECK:   %[[AF:.+]] = arith.extf %[[A]] : bf16 to f32
// CHECK:   %[[PF:.+]] = arith.extf %[[P]] : bf16 to f32
// CHECK:   %[[AC:.+]] = arith.mulf %[[AF]], %[[C]]
// CHECK:   %[[PS:.+]] = arith.mulf %[[PF]], %[[S]]
// CHECK:   %[[SIDE:.+]] = linalg.index 4
// CHECK:   %[[FIRST:.+]] = arith.cmpi eq, %[[SIDE]]
// CHECK:   %[[MINUS:.+]] = arith.subf %[[AC]], %[[PS]]
// CHECK:   %[[PLUS:.+]] = arith.addf %[[AC]], %[[PS]]
// CHECK:   %[[R:.+]] = arith.select %[[FIRST]], %[[MINUS]], %[[PLUS]]
// CHECK:   arith.truncf %[[R]] : f32 to bf16
// CHECK: %[[SPAN:.+]] = tensor.collapse_shape %[[ROT]] {{\[}}[0], [1], [2], [3, 4, 5]] : tensor<2x3x10x2x2x4xbf16> into tensor<2x3x10x16xbf16>
// CHECK: %[[RES:.+]] = tensor.insert_slice %[[SPAN]] into %[[X]][0, 0, 0, 4] [2, 3, 10, 16] [1, 1, 1, 1]
// CHECK: return %[[RES]]
func.func @rope_half(%x: tensor<2x3x10x24xbf16>) -> tensor<2x3x10x24xbf16> {
  %o = tucker.rope %x
      {rope = #tucker.rope<theta = 10000.0, width = 8, offset = 4, repeat = 2, style = half>}
      : tensor<2x3x10x24xbf16> -> tensor<2x3x10x24xbf16>
  return %o : tensor<2x3x10x24xbf16>
}

// -----

// Tests tucker.rope, style interleaved, per-batch index positions [B, N] and
// blocks with a stride (per-head partial rotation): the table is [B, N, 2],
// pairs (2j, 2j + 1) are affine in the loops, and each block is inserted at
// offset + r·stride.

// CHECK-DAG: #[[$POS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$SELF:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3 * 8 + d4 + d5 * 2 + 2)>
// CHECK-DAG: #[[$BANGLE:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d2, d5)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5, d4)>
// CHECK-LABEL: func.func @rope_interleaved_strided
// CHECK-SAME: (%[[X:.+]]: tensor<?x4x16x16xf32>, %[[P:.+]]: tensor<?x16xindex>)
// CHECK: %[[TAB:.+]]:2 = linalg.generic {indexing_maps = [#[[$POS]], {{.*}}]{{.*}} ins(%[[P]], %{{.+}} : tensor<?x16xindex>, tensor<2xf64>) outs({{.*}} : tensor<?x16x2xf32>, tensor<?x16x2xf32>)
// CHECK:   arith.index_cast %{{.+}} : index to i64
// CHECK: %[[ROT:.+]] = linalg.generic {indexing_maps = [#[[$SELF]], {{.*}}, #[[$BANGLE]], #[[$BANGLE]], #[[$OUT]]]{{.*}} outs(%{{.+}} : tensor<?x4x16x2x2x2xf32>)
// CHECK-NOT: arith.extf
// CHECK: %[[BLOCKS:.+]] = tensor.collapse_shape %[[ROT]] {{\[}}[0], [1], [2], [3], [4, 5]]
// CHECK: %[[B0:.+]] = tensor.extract_slice %[[BLOCKS]][0, 0, 0, 0, 0] [%{{.+}}, 4, 16, 1, 4]
// CHECK: %[[X0:.+]] = tensor.insert_slice %[[B0]] into %[[X]][0, 0, 0, 2] [%{{.+}}, 4, 16, 4]
// CHECK: %[[B1:.+]] = tensor.extract_slice %[[BLOCKS]][0, 0, 0, 1, 0] [%{{.+}}, 4, 16, 1, 4]
// CHECK: %[[X1:.+]] = tensor.insert_slice %[[B1]] into %[[X0]][0, 0, 0, 10] [%{{.+}}, 4, 16, 4]
// CHECK: return %[[X1]]
func.func @rope_interleaved_strided(%x: tensor<?x4x16x16xf32>, %p: tensor<?x16xindex>)
    -> tensor<?x4x16x16xf32> {
  %o = tucker.rope %x positions(%p : tensor<?x16xindex>)
      {rope = #tucker.rope<theta = 10000.0, width = 4, offset = 2, repeat = 2, stride = 8, style = interleaved>}
      : tensor<?x4x16x16xf32> -> tensor<?x4x16x16xf32>
  return %o : tensor<?x4x16x16xf32>
}

// -----

// Tests tucker.rope with i32 positions [N] rotating the whole last dim: no
// slice, the rotated pairs are the result.

// CHECK-LABEL: func.func @rope_whole
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x8x8xf16>, %[[P:.+]]: tensor<8xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[P]], %{{.+}} : tensor<8xi32>, tensor<4xf64>)
// CHECK:   arith.sitofp %{{.+}} : i32 to f64
// CHECK: %[[ROT:.+]] = linalg.generic
// CHECK: %[[RES:.+]] = tensor.collapse_shape %[[ROT]] {{.*}} into tensor<1x2x8x8xf16>
// CHECK-NOT: tensor.insert_slice
// CHECK: return %[[RES]]
func.func @rope_whole(%x: tensor<1x2x8x8xf16>, %p: tensor<8xi32>) -> tensor<1x2x8x8xf16> {
  %o = tucker.rope %x positions(%p : tensor<8xi32>)
      {rope = #tucker.rope<theta = 500.0, width = 8, style = half>}
      : tensor<1x2x8x8xf16> -> tensor<1x2x8x8xf16>
  return %o : tensor<1x2x8x8xf16>
}

// -----

// Tests operands whose types are less static than the sizes known from the
// others (B and Nq of q from the result, Nk of v from k): they are cast to
// the known sizes first, so that the reshapes and tiles are static.

// CHECK-LABEL: func.func @flash_mixed_static
// CHECK-SAME: (%[[Q:.+]]: tensor<?x2x?x8xf32>, %[[K:.+]]: tensor<2x1x16x8xf32>, %[[V:.+]]: tensor<2x1x?x4xf32>)
// CHECK-DAG: %[[QS:.+]] = tensor.cast %[[Q]] : tensor<?x2x?x8xf32> to tensor<2x2x10x8xf32>
// CHECK-DAG: %[[VS:.+]] = tensor.cast %[[V]] : tensor<2x1x?x4xf32> to tensor<2x1x16x4xf32>
// CHECK: tensor.expand_shape %[[QS]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 1, 2, 10, 8]
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     tensor.extract_slice %[[VS]]
// CHECK: %[[RES:.+]] = tensor.collapse_shape {{.*}} : tensor<2x1x2x10x4xf32> into tensor<2x2x10x4xf32>
// CHECK: return %[[RES]]
func.func @flash_mixed_static(%q: tensor<?x2x?x8xf32>, %k: tensor<2x1x16x8xf32>,
                              %v: tensor<2x1x?x4xf32>) -> tensor<2x2x10x4xf32> {
  %o = tucker.flash %q, %k, %v {causal}
      : tensor<?x2x?x8xf32>, tensor<2x1x16x8xf32>, tensor<2x1x?x4xf32>
        -> tensor<2x2x10x4xf32>
  return %o : tensor<2x2x10x4xf32>
}

// -----

// Tests causal decode with lengths: L_b = clamp(lengths[b], 0, Nk) as an
// index tensor, its min and max in one reduction; per query tile the keys
// below queryStart + min(L) − Nq + 1 (whole tiles) go unmasked and the masked
// loop ends at queryStart + rows + max(L) − Nq, so a mostly empty cache is not
// read past the longest sequence; the mask and the masked P·V read L_b
// through the batch loop: row i sees column j iff
// j <= i + queryStart − Nq − keyStart + L_b.

// CHECK-LABEL: func.func @flash_lengths_causal
// CHECK-SAME: (%[[Q:.+]]: tensor<4x4x2x16xf32>, %[[K:.+]]: tensor<4x2x100x16xf32>, %[[V:.+]]: tensor<4x2x100x8xf32>, %[[LEN:.+]]: tensor<4xi32>)
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C100:.+]] = arith.constant 100 : index
// CHECK: %[[COUNTS:.+]] = linalg.generic {{.*}} ins(%[[LEN]] : tensor<4xi32>) outs(%{{.+}} : tensor<4xindex>)
// CHECK:   %[[N:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK:   %[[POS:.+]] = arith.maxsi %[[N]], %[[C0]]
// CHECK:   arith.minsi %[[POS]], %[[C100]]
// CHECK: %[[BOUNDS:.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[COUNTS]] : tensor<4xindex>) outs(%{{.+}}, %{{.+}} : tensor<index>, tensor<index>)
// CHECK:   arith.minsi
// CHECK:   arith.maxsi
// CHECK: %[[FEWEST:.+]] = tensor.extract %[[BOUNDS]]#0[]
// CHECK: %[[MOST:.+]] = tensor.extract %[[BOUNDS]]#1[]
// CHECK: %[[C2:.+]] = arith.constant 2 : index
// CHECK: %[[FDIAG:.+]] = arith.subi %[[FEWEST]], %[[C2]]
// CHECK: %[[MDIAG:.+]] = arith.subi %[[MOST]], %[[C2]]
// CHECK-DAG: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK: scf.for %[[QS:.+]] = %[[C0]] to %[[C2]] step %[[C2]]
// CHECK:   %[[FLIMIT:.+]] = arith.addi %[[QS]], %[[FDIAG]]
// CHECK:   %[[MLIMIT:.+]] = arith.addi %[[QS]], %[[MDIAG]]
// CHECK:   %[[LAST:.+]] = arith.addi %[[MLIMIT]], %[[C2]]
// CHECK:   %[[END:.+]] = arith.minsi %[[LAST]], %[[C100]]
// CHECK:   %[[FIRST:.+]] = arith.addi %[[FLIMIT]], %[[C1]]
// CHECK:   %[[BASE:.+]] = arith.subi %[[QS]], %[[C2]]
// CHECK:   %[[FULL:.+]] = arith.select
// The whole 64-key tiles, then the 36-key tail, unmasked and masked.
// CHECK:   %[[FULLW:.+]] = arith.minsi %[[FULL]], %[[C64]]
// CHECK:   %[[SPLIT:.+]] = arith.maxsi %[[C0]], %[[FULLW]]
// CHECK:   %[[UNMASKED:.+]]:3 = scf.for %{{.+}} = %[[C0]] to %[[SPLIT]] step %[[C64]]
// CHECK-NOT: linalg.index
// CHECK:     scf.yield
// CHECK:   %[[UNMASKEDTAIL:.+]]:3 = scf.for %{{.+}} = %[[SPLIT]] to %[[FULL]] step %[[C64]] iter_args(%{{.+}} = %[[UNMASKED]]#0
// CHECK:     tensor<4x2x2x2x36xf32>
// CHECK-NOT: linalg.index
// CHECK:     scf.yield
// CHECK:   %[[ENDW:.+]] = arith.minsi %[[END]], %[[C64]]
// CHECK:   %[[MSPLIT:.+]] = arith.maxsi %[[FULL]], %[[ENDW]]
// CHECK:   %[[MASKED:.+]]:3 = scf.for %[[KS:.+]] = %[[FULL]] to %[[MSPLIT]] step %[[C64]] iter_args(%{{.+}} = %[[UNMASKEDTAIL]]#0
// CHECK:     %[[OFF:.+]] = arith.subi %[[BASE]], %[[KS]]
// CHECK:     linalg.generic {{.*}} ins(%[[COUNTS]] : tensor<4xindex>) outs(%{{.+}} : tensor<4x2x2x2x64xf32>)
// CHECK:     ^bb0(%[[L:.+]]: index, %[[S:.+]]: f32):
// CHECK:       %[[I:.+]] = linalg.index 3
// CHECK:       %[[J:.+]] = linalg.index 4
// CHECK:       %[[IOFF:.+]] = arith.addi %[[I]], %[[OFF]]
// CHECK:       %[[JMAX:.+]] = arith.addi %[[IOFF]], %[[L]]
// CHECK:       %[[SEEN:.+]] = arith.cmpi sle, %[[J]], %[[JMAX]]
// CHECK:       arith.select %[[SEEN]], %[[S]], %[[NINF]]
// CHECK:     linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %[[COUNTS]] : tensor<4x2x2x2x64xf32>, tensor<4x2x64x8xf32>, tensor<4xindex>)
// CHECK:     ^bb0(%{{.+}}: f32, %{{.+}}: f32, %[[PL:.+]]: index, %[[OLD:.+]]: f32):
// CHECK:       %[[PROD:.+]] = arith.mulf
// CHECK:       %[[PI:.+]] = linalg.index 3
// CHECK:       %[[PJ:.+]] = linalg.index 5
// CHECK:       %[[PIOFF:.+]] = arith.addi %[[PI]], %[[OFF]]
// CHECK:       %[[PJMAX:.+]] = arith.addi %[[PIOFF]], %[[PL]]
// CHECK:       %[[PSEEN:.+]] = arith.cmpi sle, %[[PJ]], %[[PJMAX]]
// CHECK:       %[[TERM:.+]] = arith.select %[[PSEEN]], %[[PROD]], %{{.+}}
// CHECK:       arith.addf %[[OLD]], %[[TERM]]
// CHECK:   scf.for %{{.+}} = %[[MSPLIT]] to %[[END]] step %[[C64]] iter_args(%{{.+}} = %[[MASKED]]#0
// CHECK:     linalg.generic {{.*}} ins(%[[COUNTS]] : tensor<4xindex>) outs(%{{.+}} : tensor<4x2x2x2x36xf32>)
func.func @flash_lengths_causal(%q: tensor<4x4x2x16xf32>, %k: tensor<4x2x100x16xf32>,
                                %v: tensor<4x2x100x8xf32>, %len: tensor<4xi32>) -> tensor<4x4x2x8xf32> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<4xi32>) {causal}
      : tensor<4x4x2x16xf32>, tensor<4x2x100x16xf32>, tensor<4x2x100x8xf32> -> tensor<4x4x2x8xf32>
  return %o : tensor<4x4x2x8xf32>
}

// -----

// Tests non-causal lengths with rope and dynamic B and Nk: queries are
// rotated at positions [B, Nq] = m + L_b − Nq (a table per sequence); keys
// below min(L) (whole tiles) go unmasked, [full, max(L)) masked with
// j <= −1 − keyStart + L_b (no row term).

// CHECK-LABEL: func.func @flash_lengths_rope
// CHECK-SAME: (%[[Q:.+]]: tensor<?x2x3x16xf32>, %[[K:.+]]: tensor<?x1x?x16xf32>, %[[V:.+]]: tensor<?x1x?x8xf32>, %[[LEN:.+]]: tensor<?xi32>)
// CHECK: %[[COUNTS:.+]] = linalg.generic {{.*}} ins(%[[LEN]] : tensor<?xi32>) outs(%{{.+}} : tensor<?xindex>)
// CHECK: %[[BOUNDS:.+]]:2 = linalg.generic
// CHECK: %[[FEWEST:.+]] = tensor.extract %[[BOUNDS]]#0[]
// CHECK: %[[MOST:.+]] = tensor.extract %[[BOUNDS]]#1[]
// CHECK: %[[C3:.+]] = arith.constant 3 : index
// CHECK: %[[POSITIONS:.+]] = linalg.generic {{.*}} ins(%[[COUNTS]] : tensor<?xindex>) outs(%{{.+}} : tensor<?x3xindex>)
// CHECK:   %[[M:.+]] = linalg.index 1
// CHECK:   %[[SHIFT:.+]] = arith.subi %{{.+}}, %[[C3]]
// CHECK:   arith.addi %[[M]], %[[SHIFT]]
// CHECK: linalg.generic {{.*}} ins(%[[POSITIONS]], %{{.+}} : tensor<?x3xindex>, tensor<8xf64>) outs(%{{.+}}, %{{.+}} : tensor<?x3x8xf32>, tensor<?x3x8xf32>)
// CHECK: %[[CM1:.+]] = arith.constant -1 : index
// CHECK: scf.for
// CHECK:   arith.maxsi %[[FEWEST]]
// CHECK:   %[[FULL:.+]] = arith.select
// The whole tiles below ⌊Nk / 64⌋·64 have the static 64 keys, the tail
// loops the dynamic rest.
// CHECK:   %[[NT:.+]] = arith.divui %[[NK:.+]], %[[C64:.+]] : index
// CHECK:   %[[WHOLE:.+]] = arith.muli %[[NT]], %[[C64]]
// CHECK:   %[[FULLW:.+]] = arith.minsi %[[FULL]], %[[WHOLE]]
// CHECK:   %[[SPLIT:.+]] = arith.maxsi %{{.+}}, %[[FULLW]]
// CHECK:   %[[UNMASKED:.+]]:3 = scf.for %{{.+}} = %{{.+}} to %[[SPLIT]]
// CHECK-NOT: linalg.index
// CHECK:     tensor<?x1x2x3x64xf32>
// CHECK-NOT: linalg.index
// CHECK:     scf.yield
// CHECK:   %[[UNMASKEDTAIL:.+]]:3 = scf.for %{{.+}} = %[[SPLIT]] to %[[FULL]]
// CHECK:     %[[REST:.+]] = arith.subi %[[NK]], %{{.+}}
// CHECK:     arith.minsi %[[REST]], %[[C64]]
// CHECK-NOT: linalg.index
// CHECK:     scf.yield
// CHECK:   %[[MOSTW:.+]] = arith.minsi %[[MOST]], %{{.+}}
// CHECK:   %[[MSPLIT:.+]] = arith.maxsi %[[FULL]], %[[MOSTW]]
// CHECK:   scf.for %[[KS:.+]] = %[[FULL]] to %[[MSPLIT]]
// CHECK:     %[[OFF:.+]] = arith.subi %[[CM1]], %[[KS]]
// CHECK:     linalg.generic {{.*}} ins(%[[COUNTS]] : tensor<?xindex>)
// CHECK:     ^bb0(%[[L:.+]]: index, %{{.+}}: f32):
// CHECK-NEXT:  %[[J:.+]] = linalg.index 4
// CHECK-NEXT:  %[[JMAX:.+]] = arith.addi %[[OFF]], %[[L]]
// CHECK-NEXT:  arith.cmpi sle, %[[J]], %[[JMAX]]
func.func @flash_lengths_rope(%q: tensor<?x2x3x16xf32>, %k: tensor<?x1x?x16xf32>,
                              %v: tensor<?x1x?x8xf32>, %len: tensor<?xi32>) -> tensor<?x2x3x8xf32> {
  %o = tucker.flash %q, %k, %v lengths(%len : tensor<?xi32>)
      {rope = #tucker.rope<theta = 10000.0, width = 16, style = half>}
      : tensor<?x2x3x16xf32>, tensor<?x1x?x16xf32>, tensor<?x1x?x8xf32> -> tensor<?x2x3x8xf32>
  return %o : tensor<?x2x3x8xf32>
}

// -----

// Tests that the lse result is carried through the query loop beside the
// output: per query tile, from the final row max m (log2 domain) and row sum
// l, lse = (m + log2 l)·ln 2, or −inf where l = 0 (a row that saw no key);
// it is collapsed to [B, Hq, Nq] like the output.

// CHECK-LABEL: func.func @flash_lse
// CHECK-DAG: %[[NINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[LN2:.+]] = arith.constant 0.693147182 : f32
// CHECK: %[[LOOP:.+]]:2 = scf.for %[[QS:.+]] = {{.+}} iter_args(%[[OUT:.+]] = %{{.+}}, %[[LSE:.+]] = %{{.+}}) -> (tensor<1x2x2x8x8xf32>, tensor<1x2x2x8xf32>)
// CHECK:   %[[STATE:.+]]:3 = scf.for
// CHECK:   %[[O:.+]] = tensor.insert_slice %{{.+}} into %[[OUT]]
// CHECK:   %[[TL:.+]] = linalg.generic {{.*}} ins(%[[STATE]]#0, %[[STATE]]#1 :
// CHECK:   ^bb0(%[[M:.+]]: f32, %[[L:.+]]: f32, %{{.+}}: f32):
// CHECK:     %[[EMPTY:.+]] = arith.cmpf oeq, %[[L]], %{{.+}}
// CHECK:     %[[LOG:.+]] = math.log2 %[[L]]
// CHECK:     %[[SUM:.+]] = arith.addf %[[M]], %[[LOG]]
// CHECK:     %[[NAT:.+]] = arith.mulf %[[SUM]], %[[LN2]]
// CHECK:     arith.select %[[EMPTY]], %[[NINF]], %[[NAT]]
// CHECK:   %[[NL:.+]] = tensor.insert_slice %[[TL]] into %[[LSE]][0, 0, 0, %[[QS]]] [1, 2, 2, 8]
// CHECK:   scf.yield %[[O]], %[[NL]]
// CHECK: %[[RO:.+]] = tensor.collapse_shape %[[LOOP]]#0 {{\[}}[0], [1, 2], [3], [4]]
// CHECK: %[[RL:.+]] = tensor.collapse_shape %[[LOOP]]#1 {{\[}}[0], [1, 2], [3]] : tensor<1x2x2x8xf32> into tensor<1x4x8xf32>
// CHECK: return %[[RO]], %[[RL]]
func.func @flash_lse(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                     %v: tensor<1x2x8x8xf32>)
    -> (tensor<1x4x8x8xf32>, tensor<1x4x8xf32>) {
  %o, %lse = tucker.flash %q, %k, %v
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32>
      -> tensor<1x4x8x8xf32>, tensor<1x4x8xf32>
  return %o, %lse : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>
}

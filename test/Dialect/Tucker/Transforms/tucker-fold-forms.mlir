// RUN: tucker-opt %s --tucker-fold="query-form=two-step output-form=two-step" | FileCheck %s --check-prefix=TWO
// RUN: tucker-opt %s --tucker-fold="query-form=absorbed output-form=absorbed" | FileCheck %s --check-prefix=ABS
// RUN: tucker-opt %s --tucker-fold | FileCheck %s --check-prefix=AUTO

// Tests that: the query and output folds follow the requested form, and
// auto picks the cheaper one (here d = 64, H = 4, r2 = 8, r3 = 6, r̃2 = 8,
// r̃3 = 4: two-step 64·8 + 4·8·6 = 704 < absorbed 64·4·6 = 1536 for the
// query; two-step 4·4·8 + 8·64 = 640 < absorbed 4·4·64 = 1024 for the
// output).
// TWO-LABEL: func @forms
// TWO: %[[QT:.*]] = linalg.generic {{.*}} : tensor<1x8x64xf32>, tensor<64x8xf32>) outs(%{{.*}} : tensor<1x8x8xf32>)
// TWO: linalg.generic {{.*}} ins(%[[QT]], %{{.*}} : tensor<1x8x8xf32>, tensor<4x8x6xf32>) outs(%{{.*}} : tensor<1x4x8x6xf32>)
// TWO: %[[O:.*]] = tucker.flash
// TWO: %[[Z:.*]] = linalg.generic {{.*}} ins(%[[O]], %{{.*}} : tensor<1x4x8x4xf32>, tensor<4x8x4xf32>) outs(%{{.*}} : tensor<1x8x8xf32>)
// TWO: linalg.generic {{.*}} ins(%[[Z]], %{{.*}} : tensor<1x8x8xf32>, tensor<64x8xf32>)
// ABS-LABEL: func @forms
// ABS: %[[W:.*]] = linalg.generic {{.*}} : tensor<64x8xf32>, tensor<4x8x6xf32>) outs(%{{.*}} : tensor<4x64x6xf32>)
// ABS: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<1x8x64xf32>, tensor<4x64x6xf32>)
// ABS: %[[O:.*]] = tucker.flash
// ABS: %[[WO:.*]] = linalg.generic {{.*}} : tensor<64x8xf32>, tensor<4x8x4xf32>) outs(%{{.*}} : tensor<4x64x4xf32>)
// ABS: linalg.generic {{.*}} ins(%[[O]], %[[WO]] : tensor<1x4x8x4xf32>, tensor<4x64x4xf32>)
// AUTO-LABEL: func @forms
// AUTO: outs(%{{.*}} : tensor<1x8x8xf32>)
// AUTO-NOT: tensor<4x64x6xf32>
// AUTO: tucker.flash
// AUTO-NOT: tensor<4x64x4xf32>
func.func @forms(%x: tensor<1x8x64xf32>, %u1: tensor<4x4xf32>, %u2: tensor<64x8xf32>,
                 %u3: tensor<64x6xf32>, %c: tensor<4x8x6xf32>, %v2: tensor<64x8xf32>,
                 %v3: tensor<64x4xf32>, %cv: tensor<4x8x4xf32>) -> tensor<1x8x64xf32> {
  %eye = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %y = tucker.attention %x, pre(%eye, %u2, %u3, core %c), post(%eye, %v2, %v3, core %cv)
      {ranks = #tucker.ranks<[4, 8, 6], [4, 8, 4]>, scale = 0.5 : f64, causal}
      : (tensor<1x8x64xf32>, tensor<4x4xf32>, tensor<64x8xf32>, tensor<64x6xf32>,
         tensor<4x8x6xf32>, tensor<4x4xf32>, tensor<64x8xf32>, tensor<64x4xf32>,
         tensor<4x8x4xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// UNSUPPORTED: sanitized
// RUN: mlir-opt %s --load-dialect-plugin=%tucker_lib_dir/TuckerPlugin%shlibext \
// RUN:   --pass-pipeline="builtin.module(tucker-raise)" | FileCheck %s --check-prefix=RAISE
// RUN: mlir-opt %s --load-pass-plugin=%tucker_lib_dir/TuckerPlugin%shlibext \
// RUN:   --pass-pipeline="builtin.module(tucker-raise)" | FileCheck %s --check-prefix=RAISE
// RUN: mlir-opt %s --load-dialect-plugin=%tucker_lib_dir/TuckerPlugin%shlibext \
// RUN:   --load-pass-plugin=%tucker_lib_dir/TuckerPlugin%shlibext \
// RUN:   --pass-pipeline="builtin.module(tucker-raise, tucker-cpu-pipeline)" \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_runner_utils%shlibext,%mlir_lib_dir/libmlir_c_runner_utils%shlibext \
// RUN: | FileCheck %s --check-prefix=EXEC

// Tests that TuckerPlugin.so loads into the stock mlir-opt of LLVM 22 as a
// dialect plugin and as a pass plugin (and as both), and that the tucker
// passes and pipelines run there: --tucker-raise turns the attention below
// into tucker.flash, and --tucker-cpu-pipeline lowers it to code that
// mlir-runner executes. With q = 0 every key gets weight 1/4, so each output
// row is the mean of the value rows, (0 + 1 + 2 + 3)/4 = 1.5.
// Unsupported in sanitized builds (-DTUCKER_SANITIZE=ON): an ASan-instrumented
// plugin cannot be loaded into Debian's uninstrumented mlir-opt (the sanitizer
// runtime has to come with the executable).

// RAISE-LABEL: func.func @attention(
// RAISE-SAME: %[[Q:[a-z0-9]+]]: tensor<2x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<2x4x8xf32>, %[[V:[a-z0-9]+]]: tensor<2x4x8xf32>
// RAISE: tucker.flash {{.*}} {scale = 0.35355{{[0-9]+}} : f64} : tensor<1x2x4x8xf32>
// RAISE-NOT: linalg.softmax

// EXEC: rank = 3 offset = 0 sizes = [2, 4, 8] strides = [32, 8, 1] data =
// EXEC-COUNT-8: [1.5,   1.5,   1.5,   1.5,   1.5,   1.5,   1.5,   1.5]

func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.353553385 : f32
  %e0 = tensor.empty() : tensor<2x8x4xf32>
  %kt = linalg.transpose ins(%k : tensor<2x4x8xf32>) outs(%e0 : tensor<2x8x4xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<2x4x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x4xf32>) outs(%z : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(a, b, c) -> (a, b, c)>, affine_map<(a, b, c) -> (a, b, c)>],
                        iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x4x4xf32>) outs(%e1 : tensor<2x4x4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x4xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<2x4x4xf32>) outs(%e1 : tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %e2 = tensor.empty() : tensor<2x4x8xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x4xf32>, tensor<2x4x8xf32>) outs(%z2 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

func.func @main() {
  %q = arith.constant dense<0.0> : tensor<2x4x8xf32>
  %k = arith.constant dense<0.5> : tensor<2x4x8xf32>
  %e = tensor.empty() : tensor<2x4x8xf32>
  %v = linalg.generic {indexing_maps = [affine_map<(a, b, c) -> (a, b, c)>], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%e : tensor<2x4x8xf32>) {
  ^bb0(%o: f32):
    %n = linalg.index 1 : index
    %i = arith.index_cast %n : index to i32
    %f = arith.sitofp %i : i32 to f32
    linalg.yield %f : f32
  } -> tensor<2x4x8xf32>
  %y = call @attention(%q, %k, %v) : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %u = tensor.cast %y : tensor<2x4x8xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}

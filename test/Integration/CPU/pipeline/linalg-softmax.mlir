// RUN: tucker-opt %s --tucker-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_runner_utils%shlibext,%mlir_lib_dir/libmlir_c_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests that: linalg on tensors (a matmul and a row softmax: reductions,
// broadcasts, exp, division) with a dynamic row count runs through
// --tucker-cpu-pipeline (the call from @main inlined) and computes
// softmax(A·B) (values from NumPy); the same with the named linalg.softmax
// (as frontends emit it), which --tucker-decompose-aggregates lowers.

#rows = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>

func.func @softmax_matmul(%a: tensor<?x3xf32>, %b: tensor<3x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = tensor.dim %a, %c0 : tensor<?x3xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  %s = linalg.matmul ins(%a, %b : tensor<?x3xf32>, tensor<3x4xf32>)
      outs(%init : tensor<?x4xf32>) -> tensor<?x4xf32>
  %er = tensor.empty(%n) : tensor<?xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<?xf32>) -> tensor<?xf32>
  %m = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%s : tensor<?x4xf32>) outs(%m0 : tensor<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.maximumf %x, %acc : f32
    linalg.yield %r : f32
  } -> tensor<?xf32>
  %p = linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%s, %m : tensor<?x4xf32>, tensor<?xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%x: f32, %mx: f32, %o: f32):
    %d = arith.subf %x, %mx : f32
    %r = math.exp %d : f32
    linalg.yield %r : f32
  } -> tensor<?x4xf32>
  %l0 = linalg.fill ins(%zero : f32) outs(%er : tensor<?xf32>) -> tensor<?xf32>
  %l = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%p : tensor<?x4xf32>) outs(%l0 : tensor<?xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %x, %acc : f32
    linalg.yield %r : f32
  } -> tensor<?xf32>
  %y = linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%p, %l : tensor<?x4xf32>, tensor<?xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%x: f32, %sum: f32, %o: f32):
    %r = arith.divf %x, %sum : f32
    linalg.yield %r : f32
  } -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

func.func @named_softmax_matmul(%a: tensor<?x3xf32>, %b: tensor<3x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %a, %c0 : tensor<?x3xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  %s = linalg.matmul ins(%a, %b : tensor<?x3xf32>, tensor<3x4xf32>)
      outs(%init : tensor<?x4xf32>) -> tensor<?x4xf32>
  %y = linalg.softmax dimension(1) ins(%s : tensor<?x4xf32>) outs(%e : tensor<?x4xf32>)
      -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

func.func @main() {
  %a = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<[[0.1, 0.0, 0.0, -0.1],
                             [0.0, 0.1, 0.0, 0.0],
                             [0.0, 0.0, 0.1, 0.0]]> : tensor<3x4xf32>
  %ad = tensor.cast %a : tensor<2x3xf32> to tensor<?x3xf32>
  %y = call @softmax_matmul(%ad, %b) : (tensor<?x3xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
  %u = tensor.cast %y : tensor<?x4xf32> to tensor<*xf32>
  // CHECK: rank = 2 offset = 0 sizes = [2, 4] strides = [4, 1]
  // CHECK-NEXT: [0.241237, 0.266608, 0.294647, 0.197508]
  // CHECK-NEXT: [0.264837, 0.292691, 0.323473, 0.118999]
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  %z = call @named_softmax_matmul(%ad, %b) : (tensor<?x3xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
  %zu = tensor.cast %z : tensor<?x4xf32> to tensor<*xf32>
  // CHECK: rank = 2 offset = 0 sizes = [2, 4] strides = [4, 1]
  // CHECK-NEXT: [0.241237, 0.266608, 0.294647, 0.197508]
  // CHECK-NEXT: [0.264837, 0.292691, 0.323473, 0.118999]
  call @printMemrefF32(%zu) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}

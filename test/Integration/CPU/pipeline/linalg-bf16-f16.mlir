// RUN: tucker-opt %s --tucker-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_runner_utils%shlibext,%mlir_lib_dir/libmlir_c_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests that: bf16 and f16 tensors cross the pipeline (loads, stores, extf
// and truncf, bf16 rounding to nearest even) and the arithmetic happens in
// f32: y = bf16(exp2(a) · b + 1/3).

#id = affine_map<(i, j) -> (i, j)>

func.func @mixed(%a: tensor<2x4xbf16>, %b: tensor<2x4xf16>) -> tensor<2x4xbf16> {
  %third = arith.constant 0.333333343 : f32
  %e = tensor.empty() : tensor<2x4xbf16>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<2x4xbf16>, tensor<2x4xf16>) outs(%e : tensor<2x4xbf16>) {
  ^bb0(%x: bf16, %z: f16, %o: bf16):
    %xf = arith.extf %x : bf16 to f32
    %zf = arith.extf %z : f16 to f32
    %p = math.exp2 %xf : f32
    %m = arith.mulf %p, %zf : f32
    %s = arith.addf %m, %third : f32
    %r = arith.truncf %s : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<2x4xbf16>
  return %y : tensor<2x4xbf16>
}

func.func @main() {
  %a = arith.constant dense<[[0.0, 1.0, 2.0, -1.0], [3.0, 0.5, -2.0, 4.0]]> : tensor<2x4xbf16>
  %b = arith.constant dense<[[1.0, 0.5, -0.25, 2.0], [0.125, 4.0, 8.0, -1.0]]> : tensor<2x4xf16>
  %y = call @mixed(%a, %b) : (tensor<2x4xbf16>, tensor<2x4xf16>) -> tensor<2x4xbf16>
  %e = tensor.empty() : tensor<2x4xf32>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<2x4xbf16>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%x: bf16, %o: f32):
    %r = arith.extf %x : bf16 to f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  %u = tensor.cast %f : tensor<2x4xf32> to tensor<*xf32>
  // exp2(a)·b + 1/3 = [1.333, 1.333, -0.667, 1.333], [1.333, 5.990, 2.333, -15.667],
  // each rounded to bf16 (8 significant bits; the same as torch's bfloat16).
  // CHECK: sizes = [2, 4]
  // CHECK-NEXT: [1.33594, 1.33594, -0.667969, 1.33594]
  // CHECK-NEXT: [1.33594, 6, 2.32812, -15.6875]
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}

// RUN: %gen_case rope --batch 2 --heads 3 --seq 20 --dim 16 --rope 10000,0,8,2,half --positions 2d \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case rope --batch 2 --heads 3 --seq 20 --dim 16 --rope 10000,2,4,2,interleaved,6 --positions 1d --pos-type i32 --dynamic --seed 1 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case rope --batch 2 --heads 3 --seq 20 --dim 16 --rope 10000,0,16,1,interleaved --positions 2d --pos-type index --dtype bf16 --tol 2e-2 --seed 2 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests tucker.rope with a positions operand drawn in [-50, 4000): [B, N] of
// i64 (half, two adjacent blocks), [N] of i32 (interleaved, offset and stride,
// dynamic B and N), [B, N] of index (interleaved over the whole dim, bf16);
// rel. error <= 1e-5 (f32) and 2e-2 (bf16) against the NumPy reference.

// CHECK: PASS
// CHECK-NOT: FAIL

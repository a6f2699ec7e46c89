// RUN: %gen_case flash --batch 4 --heads 8 --kv-heads 2 --nq 1 --nk 97 --lengths 0,1,97,53 --poison --seed 20 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 4 --heads 8 --kv-heads 2 --nq 1 --nk 97 --lengths 0,1,97,53 --poison --causal --seed 21 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=4 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 5 --heads 6 --kv-heads 3 --nq 8 --nk 40 --dqk 16 --dv 8 --lengths 0,3,40,17,8 --poison --causal --seed 22 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=3 key-tile=8" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 5 --heads 6 --kv-heads 3 --nq 4 --nk 40 --dqk 16 --dv 8 --lengths 0,1,40,13,2 --poison --seed 23 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=3 key-tile=8" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 3 --heads 4 --kv-heads 2 --nq 2 --nk 70 --lengths=-3,71,37 --causal --dynamic --seed 24 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=2 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests decode-shaped flash with a lengths operand, f32, against the NumPy
// float64 reference with lengths (rel. error <= 1e-5): GQA 8/2 and 6/3, one
// query over 97 cache slots with lengths 0, 1, Nk and a prime (causal and
// not, default and 4/16 tiles), 8 and 4 queries per sequence over lengths
// below Nq (rows that see no key give 0) with tiles that split them, and
// out-of-range lengths (-3, Nk + 1: clamped) with dynamic B, Nq, Nk. With
// --poison the cache past each length holds NaN and Inf, which must not
// reach the output.

// CHECK: PASS
// CHECK-NOT: FAIL

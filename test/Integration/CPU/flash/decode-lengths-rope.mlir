// RUN: %gen_case flash --batch 4 --heads 4 --kv-heads 2 --nq 1 --nk 89 --dqk 32 --dv 16 --lengths 89,0,1,47 --poison --causal --rope 10000,0,32,1,half --seed 30 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=1 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 4 --heads 4 --kv-heads 1 --nq 6 --nk 50 --dqk 24 --dv 8 --lengths 50,5,1,29 --poison --causal --rope 500,4,8,2,interleaved --seed 31 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=4 key-tile=8" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 3 --heads 2 --kv-heads 2 --nq 3 --nk 31 --dqk 16 --dv 16 --lengths 31,0,19 --poison --rope 10000,0,16,1,half --dynamic --seed 32 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests rope with lengths (f32, rel. error <= 1e-5): query m of sequence b is
// rotated at m + L_b - Nq, keys at their cache index; half and interleaved
// pairs, partial and repeated blocks, causal and not, GQA 2:1 and MQA, one to
// six queries, lengths 0, 1, Nk and primes, dynamic shapes; NaN/Inf past each
// length.

// CHECK: PASS
// CHECK-NOT: FAIL

// RUN: %gen_case flash --batch 1 --heads 2 --kv-heads 1 --nq 40 --nk 40 --dqk 16 --dv 8 --causal --rope 10000,0,16,1,half \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 2 --heads 2 --kv-heads 1 --nq 30 --nk 50 --dqk 20 --dv 8 --causal --rope 500,2,4,2,interleaved,6 --seed 10 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests a flash rope (q rotated at positions m + Nk - Nq, k at n, before the
// dot products): half over the whole head (causal, square), and interleaved
// with offset, repeat and a stride (gaps between the rotated blocks, causal,
// Nq < Nk, GQA); f32, rel. error <= 1e-5 against the NumPy float64 reference.

// CHECK: PASS
// CHECK-NOT: FAIL

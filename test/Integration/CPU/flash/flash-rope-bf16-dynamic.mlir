// RUN: %gen_case flash --batch 1 --heads 4 --kv-heads 2 --nq 30 --nk 50 --dqk 24 --dv 8 --rope 10000,4,8,2,half --dtype bf16 --tol 2e-2 --seed 11 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 2 --heads 2 --kv-heads 2 --nq 50 --nk 30 --dqk 16 --dv 16 --causal --rope 100,0,8,2,interleaved --dynamic --seed 12 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests a flash rope in bf16 (half, offset 4, two blocks of 8 in a 24-wide
// head; rel. error <= 2e-2), and interleaved with dynamic B, Nq, Nk and
// Nq > Nk, i.e. negative query positions m + Nk - Nq and rows that see no key
// (f32, rel. error <= 1e-5).

// CHECK: PASS
// CHECK-NOT: FAIL

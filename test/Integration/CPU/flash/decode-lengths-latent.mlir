// RUN: %gen_case flash --batch 4 --heads 16 --kv-heads 1 --nq 1 --nk 73 --dqk 40 --dv 32 --v-from-k 0 --lengths 0,1,73,41 --poison --causal --rope 10000,32,8,1,interleaved --dtype bf16 --tol 2e-2 --seed 40 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=1 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 3 --heads 8 --kv-heads 2 --nq 4 --nk 53 --dqk 32 --dv 32 --v-from-k 0 --lengths 53,2,23 --poison --dtype bf16 --tol 2e-2 --dynamic --seed 41 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=4 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 3 --heads 4 --kv-heads 1 --nq 8 --nk 61 --dqk 24 --dv 16 --v-from-k 8 --lengths 61,7,29 --poison --causal --seed 42 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=8 key-tile=8" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests a shared latent cache with lengths: v is a column slice of k
// (tensor.extract_slice in the kernel), MQA over 16 heads with a decoupled
// interleaved rope on the last 8 of 40 dims as in MLA, GQA 8/2 with dynamic
// shapes, both bf16 (inputs rounded to bf16, rel. error <= 2e-2 against the
// reference of the rounded inputs), and f32 with v at column offset 8
// (rel. error <= 1e-5); lengths 0, 1, Nk and primes, NaN/Inf past them.

// CHECK: PASS
// CHECK-NOT: FAIL

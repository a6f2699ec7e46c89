// RUN: %gen_case flash --batch 2 --heads 4 --kv-heads 1 --nq 33 --nk 130 --dqk 32 --dv 16 --causal --dtype bf16 --tol 2e-2 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 1 --heads 4 --kv-heads 2 --nq 40 --nk 24 --dqk 16 --dv 8 --causal --dtype bf16 --tol 2e-2 --seed 6 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 2 --heads 2 --kv-heads 1 --nq 20 --nk 50 --dqk 16 --dv 16 --dtype f16 --tol 5e-3 --seed 7 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests bf16 (MQA, 130 keys over three 64-key tiles, causal; GQA with
// Nq > Nk) and f16 (non-causal): products and softmax in f32, the result
// rounded to the element type; rel. error <= 2e-2 (bf16) and 5e-3 (f16)
// against the reference of the rounded inputs.

// CHECK: PASS
// CHECK-NOT: FAIL

// RUN: %gen_case flash --batch 2 --heads 3 --kv-heads 1 --nq 50 --nk 20 --dqk 8 --dv 12 --causal \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 1 --heads 2 --kv-heads 1 --nq 70 --nk 40 --dqk 16 --dv 8 --causal --seed 3 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests causal attention with Nq > Nk: queries m < Nq - Nk see no key and
// must give exact zeros (no NaN from -inf - -inf, l = 0), the others see
// n <= m + Nk - Nq; MQA (3 and 2 query heads on one kv head); tiles 16/16 and
// the defaults; f32, rel. error <= 1e-5.

// CHECK: PASS
// CHECK-NOT: FAIL

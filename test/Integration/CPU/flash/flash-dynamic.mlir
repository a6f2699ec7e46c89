// RUN: %gen_case flash --batch 2 --heads 4 --kv-heads 2 --nq 40 --nk 70 --dqk 16 --dv 8 --causal --dynamic \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 2 --heads 4 --kv-heads 2 --nq 70 --nk 40 --dqk 16 --dv 8 --causal --dynamic --seed 8 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 3 --heads 2 --kv-heads 1 --nq 1 --nk 50 --dqk 16 --dv 8 --causal --dynamic --seed 9 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests dynamic B, Nq and Nk (the kernel takes tensor<?xHx?xD>): causal with
// Nq < Nk and Nq > Nk, and decode (one query, 50 keys); f32,
// rel. error <= 1e-5.

// CHECK: PASS
// CHECK-NOT: FAIL

// RUN: %gen_case flash --batch 2 --heads 2 --kv-heads 2 --nq 45 --nk 77 --dqk 16 --dv 16 --scale 0.3 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=32 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 1 --heads 1 --kv-heads 1 --nq 64 --nk 64 --dqk 16 --dv 8 --causal --seed 4 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 1 --heads 2 --kv-heads 2 --nq 23 --nk 19 --dqk 4 --dv 4 --causal --seed 5 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=7 key-tile=5" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests MHA (one kv head per query head) with Nq < Nk and an explicit scale
// (non-causal, tiles 32/16), causal square attention whose lengths equal the
// default tile (one diagonal tile), and odd tiles 7/5 on Nq > Nk; f32,
// rel. error <= 1e-5.

// CHECK: PASS
// CHECK-NOT: FAIL

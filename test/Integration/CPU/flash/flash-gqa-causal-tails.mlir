// RUN: %gen_case flash --batch 2 --heads 4 --kv-heads 2 --nq 70 --nk 90 --dqk 16 --dv 8 --causal \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=16 key-tile=32" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 2 --heads 4 --kv-heads 2 --nq 70 --nk 90 --dqk 16 --dv 8 --causal --seed 1 \
// RUN: | tucker-opt --tucker-flash-to-linalg \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// RUN: %gen_case flash --batch 2 --heads 4 --kv-heads 2 --nq 70 --nk 90 --dqk 16 --dv 8 --seed 2 \
// RUN: | tucker-opt --tucker-flash-to-linalg="query-tile=32 key-tile=16" \
// RUN:     --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// RUN:     --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:     --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext,%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN: | FileCheck %s

// Tests GQA (4 query heads on 2 kv heads), batch 2, Dv != Dqk, lengths that
// are no multiple of any tile (70 queries, 90 keys), causal with Nq < Nk (the
// last query sees all keys), with tiles 16/32, the default 64/64, and 32/16
// non-causal; f32 against the NumPy float64 reference, rel. error <= 1e-5.

// CHECK: PASS
// CHECK-NOT: FAIL

// Tests that: tucker.mha (all four biases, causal) runs end to end through
// --tucker-cpu-pipeline (lift, fold, flash-to-linalg, bufferization, LLVM)
// and matches the float64 reference, in f32 and in bf16, with several query
// and key tiles.

// RUN: %gen_layer mha --batch 2 --seq 24 --dim 32 --heads 4 --biases bq,bk,bv,bo --causal \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-tile=16 key-tile=8" | %run_main | FileCheck %s

// RUN: %gen_layer mha --batch 2 --seq 24 --dim 32 --heads 4 --biases bq,bv --dtype bf16 --seed 1 \
// RUN: | tucker-opt --tucker-cpu-pipeline | %run_main | FileCheck %s

// CHECK: rel_err =
// CHECK-NEXT: PASS

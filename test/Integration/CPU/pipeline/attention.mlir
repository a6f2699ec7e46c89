// Tests that: tucker.attention with dense cores and a head-mixing factor
// (r1 < heads) runs end to end through --tucker-cpu-pipeline and matches the
// float64 reference, with either fold and in bf16.

// RUN: %gen_layer attention --batch 2 --seq 20 --dim 48 --heads 4 --ranks 2,16,8 --causal \
// RUN: | tucker-opt --tucker-cpu-pipeline | %run_main | FileCheck %s

// RUN: %gen_layer attention --seq 20 --dim 48 --heads 4 --ranks 3,12,8 --seed 4 \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-form=absorbed output-form=two-step query-tile=8" \
// RUN: | %run_main | FileCheck %s

// RUN: %gen_layer attention --seq 20 --dim 48 --heads 4 --ranks 2,16,8 --causal --dtype bf16 --seed 5 \
// RUN: | tucker-opt --tucker-cpu-pipeline | %run_main | FileCheck %s

// CHECK: rel_err =
// CHECK-NEXT: PASS

// Tests that: tucker.mla (query LoRA, RMS norms, decoupled interleaved RoPE,
// causal) runs end to end through --tucker-cpu-pipeline as latent MQA and
// matches the float64 reference, with either output fold of the dense cores
// (the query norm rules out the absorbed query form).

// RUN: %gen_layer mla --seq 24 --dim 64 --heads 4 --causal \
// RUN: | tucker-opt --tucker-cpu-pipeline | %run_main | FileCheck %s

// RUN: %gen_layer mla --batch 2 --seq 20 --dim 64 --heads 4 --causal --seed 3 \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-form=two-step output-form=absorbed query-tile=8 key-tile=8" \
// RUN: | %run_main | FileCheck %s

// RUN: %gen_layer mla --batch 2 --seq 20 --dim 64 --heads 4 --causal --seed 3 \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-form=two-step output-form=two-step key-tile=16" \
// RUN: | %run_main | FileCheck %s

// CHECK: rel_err =
// CHECK-NEXT: PASS

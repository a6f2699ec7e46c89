// Tests that: tucker.gqa with per-head RoPE (lifted into one repeated latent
// rope, fused into the flash) runs end to end through --tucker-cpu-pipeline
// and matches the float64 reference; sequence lengths that are no multiple of
// the tiles, f32 and f16.

// RUN: %gen_layer gqa --seq 40 --dim 64 --heads 8 --kv-heads 2 --rope 10000,0,8,1,half --causal \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-tile=16 key-tile=16" | %run_main | FileCheck %s

// RUN: %gen_layer gqa --batch 2 --seq 33 --dim 64 --heads 8 --kv-heads 4 --rope 500,0,4,2,interleaved \
// RUN:     --dtype f16 --seed 2 \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-tile=8 key-tile=16" | %run_main | FileCheck %s

// CHECK: rel_err =
// CHECK-NEXT: PASS

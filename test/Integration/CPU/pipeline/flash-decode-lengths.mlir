// Tests that: a decode flash with a lengths operand (ragged lengths 0, 1, Nk
// and a prime, NaN/Inf in the cache past them) runs through
// --tucker-cpu-pipeline: GQA causal with rope in f32 (rel. error <= 1e-5),
// and a shared latent cache (v a column slice of k) in bf16 with dynamic
// shapes (rel. error <= 2e-2).

// RUN: %gen_flash flash --batch 4 --heads 8 --kv-heads 2 --nq 2 --nk 101 --dqk 32 --dv 16 --causal \
// RUN:     --rope 10000,0,32,1,half --lengths 0,1,101,67 --poison --seed 50 \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-tile=2 key-tile=32" | %run_main | FileCheck %s

// RUN: %gen_flash flash --batch 4 --heads 8 --kv-heads 1 --nq 1 --nk 64 --dqk 32 --dv 24 --v-from-k 0 \
// RUN:     --lengths 64,0,1,37 --poison --dtype bf16 --tol 2e-2 --dynamic --seed 51 \
// RUN: | tucker-opt --tucker-cpu-pipeline | %run_main | FileCheck %s

// CHECK: rel_err =
// CHECK: PASS

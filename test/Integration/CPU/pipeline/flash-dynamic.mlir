// Tests that: a tucker.flash kernel with dynamic shapes, called from @main,
// runs through --tucker-cpu-pipeline (the call is inlined, so no caller has
// to allocate a dynamically shaped result), with bf16 and RoPE too.

// RUN: %gen_flash flash --batch 2 --heads 4 --kv-heads 2 --nq 40 --nk 70 --dqk 16 --dv 8 --causal --dynamic \
// RUN: | tucker-opt --tucker-cpu-pipeline="query-tile=16 key-tile=32" | %run_main | FileCheck %s

// RUN: %gen_flash flash --batch 1 --heads 4 --kv-heads 1 --nq 33 --nk 33 --dqk 16 --dv 16 --causal \
// RUN:     --rope 10000,0,16,1,half --dtype bf16 --tol 2e-2 --dynamic --seed 3 \
// RUN: | tucker-opt --tucker-cpu-pipeline | %run_main | FileCheck %s

// CHECK: rel_err =
// CHECK: PASS

// RUN: tucker-opt %s --tucker-cpu-pipeline -dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// RUN: tucker-opt %s -dump-pass-pipeline -o /dev/null 2>&1 \
// RUN:   --tucker-cpu-pipeline='query-tile=16 key-tile=32 query-form=two-step output-form=absorbed vector-bits=256' \
// RUN:   | FileCheck %s --check-prefix=OPTS
// RUN: tucker-opt %s -dump-pass-pipeline -o /dev/null 2>&1 \
// RUN:   --tucker-cpu-pipeline='tucker-stage=false inline=false fuse-elementwise=false hoist-loop-buffers=false vectorize=false' \
// RUN:   | FileCheck %s --check-prefix=LEAN
// RUN: tucker-opt %s --tucker-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: not tucker-opt %s --tucker-cpu-pipeline='query-form=fastest' 2>&1 | FileCheck %s --check-prefix=BAD

// The pipeline: tucker stage, aggregated linalg ops decomposed, linalg
// cleanups, bufferization with out-params, deallocation, register-tiled
// vector code, loops for what is left, LLVM (row sums of vectors
// reassociated), and the check that nothing else is left.
// PIPE:      builtin.module(
// PIPE-NEXT:   tucker-lift,
// PIPE-NEXT:   tucker-shrink-ranks,
// PIPE-NEXT:   tucker-fold{output-form=auto query-form=auto},
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   tucker-fuse-rope,
// PIPE-NEXT:   tucker-flash-to-linalg{key-tile=64 query-tile=64},
// PIPE-NEXT:   inline
// PIPE-NEXT:   func.func(
// PIPE-NEXT:     tucker-decompose-aggregates,
// PIPE-NEXT:     convert-elementwise-to-linalg,
// PIPE-NEXT:     linalg-generalize-named-ops,
// PIPE-NEXT:     linalg-fuse-elementwise-ops
// PIPE-NEXT:   ),
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   func.func(
// PIPE-NEXT:     eliminate-empty-tensors
// PIPE-NEXT:   ),
// PIPE-NEXT:   one-shot-bufferize{
// PIPE-SAME:     allow-return-allocs-from-loops=true
// PIPE-SAME:     bufferize-function-boundaries=true
// PIPE-SAME:     function-boundary-type-conversion=identity-layout-map
// PIPE-NEXT:   buffer-results-to-out-params{
// PIPE-SAME:     hoist-dynamic-allocs=true hoist-static-allocs=true modify-public-functions=true}
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   func.func(
// PIPE-NEXT:     buffer-loop-hoisting
// PIPE-NEXT:   ),
// PIPE-NEXT:   expand-realloc
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   ownership-based-buffer-deallocation
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   buffer-deallocation-simplification,
// PIPE-NEXT:   bufferization-lower-deallocations,
// PIPE-NEXT:   cse,
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   convert-bufferization-to-memref,
// PIPE-NEXT:   func.func(
// PIPE-NEXT:     tucker-cpu-vectorize{vector-bits=0}
// PIPE-NEXT:     convert-vector-to-scf
// PIPE-NEXT:     convert-linalg-to-loops
// PIPE-NEXT:   ),
// PIPE-NEXT:   lower-affine,
// PIPE-NEXT:   convert-scf-to-cf
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   convert-vector-to-llvm{
// PIPE-SAME:     reassociate-fp-reductions=true
// PIPE-NEXT:   arith-expand{include-bf16=true
// PIPE-NEXT:   math-extend-to-supported-types{ target-type=f32},
// PIPE-NEXT:   convert-math-to-llvm
// PIPE-NEXT:   convert-math-to-libm,
// PIPE-NEXT:   expand-strided-metadata,
// PIPE-NEXT:   lower-affine,
// PIPE-NEXT:   finalize-memref-to-llvm
// PIPE-NEXT:   convert-arith-to-llvm
// PIPE-NEXT:   convert-index-to-llvm
// PIPE-NEXT:   convert-cf-to-llvm
// PIPE-NEXT:   convert-func-to-llvm
// PIPE-NEXT:   convert-ub-to-llvm
// PIPE-NEXT:   reconcile-unrealized-casts,
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   tucker-verify-lowered{allow-gpu=false}
// PIPE-NEXT: )

// Options reach the passes they belong to.
// OPTS: tucker-fold{output-form=absorbed query-form=two-step}
// OPTS: tucker-flash-to-linalg{key-tile=32 query-tile=16}
// OPTS: tucker-cpu-vectorize{vector-bits=256}

// Without the tucker stage (input already linalg on tensors) and the
// optional steps.
// LEAN:      builtin.module(
// LEAN-NOT:    tucker-{{lift|fold|fuse-rope|flash}}
// LEAN-NOT:    inline
// LEAN:        tucker-decompose-aggregates
// LEAN-NEXT:   convert-elementwise-to-linalg
// LEAN-NOT:    linalg-generalize-named-ops
// LEAN-NOT:    linalg-fuse-elementwise-ops
// LEAN:        one-shot-bufferize
// LEAN-NOT:    buffer-loop-hoisting
// LEAN-NOT:    tucker-cpu-vectorize
// LEAN:        reconcile-unrealized-casts

// BAD: for the --query-form option: Cannot find option named 'fastest'!

// Tests that: a linalg function on tensors ends as LLVM dialect functions
// whose result is an out-param (three memref descriptors), with its C
// interface wrapper, and nothing of the higher dialects left. The fused
// add + exp runs on whole rows (vector<8xf32> loads, adds, stores), exp as
// the polynomial approximation (floor, FMAs), not as a call.
// LLVM-LABEL: llvm.func @add_exp(
// LLVM-SAME:     {{%[a-z0-9]+: !llvm.ptr, %[a-z0-9]+: !llvm.ptr(, %[a-z0-9]+: i64)+}},
// LLVM-SAME:     {{%[a-z0-9]+: !llvm.ptr, %[a-z0-9]+: !llvm.ptr(, %[a-z0-9]+: i64)+}},
// LLVM-SAME:     {{%[a-z0-9]+: !llvm.ptr, %[a-z0-9]+: !llvm.ptr(, %[a-z0-9]+: i64)+}})
// LLVM-NOT:      llvm.call @malloc
// LLVM:          %[[A:.+]] = llvm.load {{.*}} -> vector<8xf32>
// LLVM:          %[[B:.+]] = llvm.load {{.*}} -> vector<8xf32>
// LLVM:          llvm.fadd %[[A]], %[[B]] : vector<8xf32>
// LLVM-NOT:      llvm.intr.exp
// LLVM:          llvm.intr.floor({{.*}}) : (vector<8xf32>) -> vector<8xf32>
// LLVM:          llvm.intr.fma
// LLVM-NOT:      llvm.intr.exp
// LLVM:          llvm.store {{.*}} : vector<8xf32>, !llvm.ptr
// LLVM:          llvm.return
// LLVM-LABEL: llvm.func @_mlir_ciface_add_exp(
// LLVM-SAME:     %{{[a-z0-9]+}}: !llvm.ptr, %{{[a-z0-9]+}}: !llvm.ptr, %{{[a-z0-9]+}}: !llvm.ptr)
// LLVM-NOT:   {{linalg|tensor|memref|arith|math|scf|cf|func}}\.
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @add_exp(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32>
    attributes {llvm.emit_c_interface} {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.add ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>)
      outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %r = linalg.exp ins(%s : tensor<4x8xf32>)
      outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

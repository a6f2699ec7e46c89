// RUN: rm -rf %t && split-file %s %t

// Tests that: each way tucker-compile can fail says what went wrong and
// exits non-zero.

// RUN: not tucker-compile %t/missing.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: tucker-compile: error: cannot read input: {{.*}}missing.mlir{{.*}}

// RUN: not tucker-compile %t/ok.mlir 2>&1 | FileCheck %s --check-prefix=NOOUT
// NOOUT: tucker-compile: error: no output file: pass -o FILE

// RUN: not tucker-compile %t/parse.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=PARSE
// PARSE: parse.mlir:3:19: error: use of value '%a' expects different type than prior uses: 'tensor<3xf32>' vs 'tensor<2xf32>'
// PARSE: tucker-compile: error: cannot parse or verify

// RUN: not tucker-compile %t/verify.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=VERIFY
// VERIFY: verify.mlir:3:8: error: 'tucker.flash' op
// VERIFY: tucker-compile: error: cannot parse or verify

// RUN: not tucker-compile %t/noentry.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: tucker-compile: error: no entry function: the module defines no public func.func with a body

// RUN: not tucker-compile %t/two.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=AMBIGUOUS
// AMBIGUOUS: tucker-compile: error: ambiguous entry function: the module defines @first, @second; pick one with --entry=NAME

// RUN: not tucker-compile %t/two.mlir -o %t/x.so --entry=third 2>&1 | FileCheck %s --check-prefix=NONAME
// NONAME: tucker-compile: error: --entry=third: the module has no func.func of that name (functions: @first, @second)

// RUN: tucker-compile %t/two.mlir -o %t/second.so --entry=second
// RUN: nm -D --defined-only %t/second.so | FileCheck %s --check-prefix=SECOND --implicit-check-not=first
// SECOND: T _mlir_ciface_second

// RUN: not tucker-compile %t/scalar.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=SCALAR
// SCALAR: scalar.mlir:1:1: error: entry @scale: argument #1 has type 'f32'; entry points take and return ranked tensors

// RUN: not tucker-compile %t/lift.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=PIPELINE
// PIPELINE: lift.mlir:4:8: error: 'tucker.gqa' op cannot lift the rope: its rotated blocks are not evenly spaced across heads of 16 dims
// PIPELINE-NOT: see current operation
// PIPELINE: tucker-compile: error: the CPU pipeline (--tucker-cpu-pipeline) failed

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --pipeline-options='query-tile=many' 2>&1 | FileCheck %s --check-prefix=OPTIONS
// OPTIONS: tucker-compile: error: invalid --pipeline-options='query-tile=many' for --tucker-cpu-pipeline

// RUN: not tucker-compile %t/host.mlir -o %t/x.so --target=cuda 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: host.mlir:3:8: error: tucker-gpu-pipeline: 'tensor.extract' would run on the host
// CUDA: tucker-compile: error: the GPU pipeline (--tucker-gpu-pipeline) failed

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: tucker-compile: error: unknown --target='tpu' (targets: cpu, cuda)

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --cc=false 2>&1 | FileCheck %s --check-prefix=LINK
// LINK: tucker-compile: error: linking the shared library failed (exit code 1):
// LINK-NEXT: {{.*}}false -shared -o {{.*}}x.so {{.*}}.o

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --cc=no-such-compiler-here 2>&1 | FileCheck %s --check-prefix=NOCC
// NOCC: tucker-compile: error: cannot link: the C compiler 'no-such-compiler-here' is not on PATH

//--- ok.mlir
func.func @ok(%a: tensor<2xf32>) -> tensor<2xf32> {
  %b = arith.addf %a, %a : tensor<2xf32>
  return %b : tensor<2xf32>
}

//--- host.mlir
func.func @first(%a: tensor<2xf32>) -> tensor<2xf32> {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %a[%c0] : tensor<2xf32>
  %b = tensor.from_elements %v, %v : tensor<2xf32>
  return %b : tensor<2xf32>
}

//--- parse.mlir
func.func @bad(%a: tensor<2xf32>) -> tensor<2xf32> {
  // Mismatched types.
  %b = arith.addf %a, %a : tensor<3xf32>
  return %b : tensor<2xf32>
}

//--- verify.mlir
func.func @bad(%q: tensor<1x3x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x3x8x16xf32> {
  // 3 query heads do not share 2 kv heads.
  %o = tucker.flash %q, %k, %v : tensor<1x3x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x3x8x16xf32>
  return %o : tensor<1x3x8x16xf32>
}

//--- noentry.mlir
func.func private @helper(%a: tensor<2xf32>) -> tensor<2xf32> {
  return %a : tensor<2xf32>
}
func.func private @external(tensor<2xf32>) -> tensor<2xf32>

//--- two.mlir
func.func @first(%a: tensor<2xf32>) -> tensor<2xf32> {
  return %a : tensor<2xf32>
}
func.func @second(%a: tensor<2xf32>) -> tensor<2xf32> {
  %b = arith.mulf %a, %a : tensor<2xf32>
  return %b : tensor<2xf32>
}

//--- scalar.mlir
func.func @scale(%a: tensor<2xf32>, %s: f32) -> tensor<2xf32> {
  return %a : tensor<2xf32>
}

//--- lift.mlir
// A rope whose blocks are uneven over the key heads cannot be lifted.
func.func @uneven_rope(%x: tensor<1x8x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x32xf32>,
                       %wv: tensor<64x32xf32>, %wo: tensor<64x64xf32>) -> tensor<1x8x64xf32> {
  %y = tucker.gqa %x, %wq, %wk, %wv, %wo
      {num_heads = 4 : i64, num_kv_heads = 2 : i64,
       rope = #tucker.rope<theta = 10000.0, width = 4, repeat = 2, style = half>}
      : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<64x32xf32>,
         tensor<64x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

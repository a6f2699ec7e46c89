// RUN: tucker-opt %s --tucker-verify-lowered -split-input-file -verify-diagnostics
// RUN: not tucker-opt %s --tucker-verify-lowered=allow-gpu=true -split-input-file 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GPU --implicit-check-not="error: 'gpu."

// Tests that: a module of LLVM dialect ops passes.
llvm.func @lowered(%a: f32) -> f32 {
  %b = llvm.fadd %a, %a : f32
  llvm.return %b : f32
}

// -----

// Tests that: an op that no pass of the pipeline lowered is named at its
// location (with the pipeline that left it).
// GPU: error: 'arith.addi' op was not lowered to the LLVM dialect by the GPU pipeline
llvm.func @left(%a: i64) -> i64 {
  // expected-error @+1 {{'arith.addi' op was not lowered to the LLVM dialect by the CPU pipeline: no pass of it lowers this op}}
  %b = arith.addi %a, %a : i64
  llvm.return %b : i64
}

// -----

// Tests that: a conversion cast between two partial conversions is no
// lowered op either.
llvm.func @cast(%a: i64) -> i64 {
  // expected-error @+1 {{'builtin.unrealized_conversion_cast' op was not lowered to the LLVM dialect}}
  %b = builtin.unrealized_conversion_cast %a : i64 to index
  llvm.return %a : i64
}

// -----

// Tests that: the GPU pipeline's host module keeps its kernels in a
// gpu.binary and launches them with gpu.launch_func, which translate to LLVM
// IR as they are; the CPU pipeline has neither.
module attributes {gpu.container_module} {
  // expected-error @+1 {{'gpu.binary' op was not lowered to the LLVM dialect by the CPU pipeline}}
  gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_90a">, "">]
  llvm.func @launch(%n: i64) {
    gpu.launch_func @kernels::@k blocks in (%n, %n, %n) threads in (%n, %n, %n) : i64
    llvm.return
  }
}

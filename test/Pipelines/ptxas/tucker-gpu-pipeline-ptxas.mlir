// RUN: tucker-opt %S/../tucker-gpu-pipeline-layers.mlir -split-input-file \
// RUN:   --tucker-gpu-pipeline='format=bin' | FileCheck %s --implicit-check-not='assembly ='

// Tests that: the PTX of every kernel of the five layers of
// tucker-gpu-pipeline-layers.mlir (flash kernels, elementwise kernels with
// libdevice math and constant tables) assembles with ptxas for sm_90a: each
// gpu.binary holds a cubin (an ELF image), no PTX text is left.
// CHECK-LABEL: llvm.func @mha_layer(
// CHECK:       gpu.binary @tucker_flash_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{{.*}}}, bin = "\7FELF
// CHECK-LABEL: llvm.func @gqa_layer(
// CHECK:       gpu.binary @tucker_flash_kernels {{.*}}bin = "\7FELF
// CHECK-LABEL: llvm.func @mla(
// CHECK:       gpu.binary @mla_kernel {{.*}}bin = "\7FELF
// CHECK:       gpu.binary @tucker_flash_kernels {{.*}}bin = "\7FELF
// CHECK-LABEL: llvm.func @tucker_layer(
// CHECK:       gpu.binary @tucker_layer_kernel {{.*}}bin = "\7FELF
// CHECK:       gpu.binary @tucker_flash_kernels {{.*}}bin = "\7FELF
// CHECK-LABEL: llvm.func @rope_then_project(
// CHECK:       gpu.binary @rope_then_project_kernel {{.*}}bin = "\7FELF

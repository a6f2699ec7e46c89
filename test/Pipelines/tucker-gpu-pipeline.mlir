// RUN: tucker-opt /dev/null --tucker-gpu-pipeline -dump-pass-pipeline -o /dev/null 2>&1 | FileCheck %s --check-prefix=PIPE
// RUN: tucker-opt /dev/null -dump-pass-pipeline -o /dev/null 2>&1 \
// RUN:   --tucker-gpu-pipeline='chip=sm_90 opt-level=2' | FileCheck %s --check-prefix=OPTS
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-pipeline 2>&1 | FileCheck %s
// RUN: not tucker-opt %s -split-input-file --tucker-gpu-pipeline 2>&1 >/dev/null | FileCheck %s --check-prefix=REFUSE
// tucker-compile --target=cuda: compiles and links (no GPU needed).
// RUN: sed -n '/^func.func @chain/,/^}/p' %s > %t.mlir
// RUN: tucker-compile %t.mlir --target=cuda -o %t.so --signature=%t.json
// RUN: nm -D %t.so | FileCheck %s --check-prefix=SO
// RUN: FileCheck %s --check-prefix=SIG < %t.json
// RUN: not tucker-compile %s --target=cuda --entry=host -o %t2.so 2>&1 | FileCheck %s --check-prefix=HOST
// SO-DAG: T _mlir_ciface_chain
// SO-DAG: U mgpuLaunchKernel
// SO-DAG: U mgpuModuleLoadJIT
// SO-DAG: U mgpuTensorMapEncodeTiledMemref
// SO-DAG: U tuckerStreamBegin
// SO-DAG: U tuckerStreamEnd
// SO-NOT: mgpuMemAlloc
// SIG: "target":"cuda","entry":"chain","symbol":"_mlir_ciface_chain","returns":"const char *: NULL, or why the shapes of the call were refused (nothing ran)","stream":"first argument: the CUstream the call enqueues on; it returns without synchronizing","workspace_bytes":65536,
// HOST: error: tucker-gpu-pipeline: 'tensor.extract' would run on the host
// HOST: the GPU pipeline (--tucker-gpu-pipeline) failed

// The pipeline: tucker stage, GEMMs to the runtime, flash-to-gpu, the rest as
// fused linalg, the host check, bufferization with out-params, the
// workspace, elementwise kernels, then the upstream NVVM lowering.
// PIPE:      builtin.module(
// PIPE-NEXT:   tucker-lift,
// PIPE-NEXT:   tucker-shrink-ranks,
// PIPE-NEXT:   tucker-fold{
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   tucker-fuse-rope,
// PIPE-NEXT:   tucker-merge-products,
// PIPE-NEXT:   tucker-gemm-to-runtime{workspace-bytes=33554432},
// PIPE-NEXT:   tucker-gpu-configure{chip=sm_90a
// PIPE-NEXT:   tucker-flash-to-gpu,
// PIPE-NEXT:   tucker-flash-to-linalg{
// PIPE-NEXT:   tucker-decompose-aggregates,
// PIPE-NEXT:   convert-elementwise-to-linalg,
// PIPE-NEXT:   linalg-morph-ops{{.*}}named-to-generic=true
// PIPE-NEXT:   linalg-fuse-elementwise-ops,
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   cse,
// PIPE-NEXT:   tucker-gpu-check-host{format=isa},
// PIPE-NEXT:   one-shot-bufferize{{.*}}bufferize-function-boundaries=true{{.*}}function-boundary-type-conversion=identity-layout-map
// PIPE-NEXT:   buffer-results-to-out-params{{.*}}hoist-dynamic-allocs=true hoist-static-allocs=true modify-public-functions=true
// PIPE-NEXT:   tucker-gpu-device-buffers,
// PIPE-NEXT:   canonicalize
// PIPE-NEXT:   tucker-gpu-map-loops{block-size=256},
// PIPE-NEXT:   func.func(
// PIPE-NEXT:     gpu-map-parallel-loops{
// PIPE-NEXT:   ),
// PIPE-NEXT:   convert-parallel-loops-to-gpu,
// PIPE-NEXT:   canonicalize
// PIPE:        nvvm-attach-target{O=3 chip=sm_90a {{.*}}features=+ptx80
// PIPE:        gpu-to-llvm{
// PIPE-NEXT:   gpu-module-to-binary{format=isa
// PIPE:        reconcile-unrealized-casts
// PIPE-NEXT:   tucker-verify-lowered{allow-gpu=true}
// PIPE-NEXT: )

// OPTS: tucker-gpu-configure{chip=sm_90
// OPTS: nvvm-attach-target{O=2 chip=sm_90a
// OPTS: gpu-module-to-binary{format=isa

// A flash-only module: the entry takes q, k, v, the out-param o (memref
// descriptors) and the workspace, where the intermediate flash output lives
// (2·128·128 bf16 = 64 KiB: no allocation per call); the launcher encodes
// the tensor maps, the kernel is PTX with wgmma.
// CHECK-LABEL: llvm.func @chain(
// CHECK-SAME:    tucker.workspace_bytes = 65536 : i64
// CHECK-NOT:     mgpuMemAlloc
// CHECK:         llvm.call @tucker_flash_launch_flash_fwd_bf16_d128(
// CHECK:         llvm.call @tucker_flash_launch_flash_fwd_bf16_d128(
// CHECK-NOT:     mgpuMemFree
// CHECK:         llvm.return
// CHECK:       gpu.binary @tucker_flash_kernels
// CHECK-SAME:    #nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// CHECK-SAME:    .entry flash_fwd_bf16_d128(
// CHECK-SAME:    wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK-LABEL: llvm.func @tucker_flash_launch_flash_fwd_bf16_d128(
// CHECK-COUNT-3: llvm.call @mgpuTensorMapEncodeTiledMemref
// CHECK:         gpu.launch_func @tucker_flash_kernels::@flash_fwd_bf16_d128
// CHECK-NOT:   gpu.alloc
func.func @chain(%q: tensor<1x2x128x128xbf16>, %k: tensor<1x2x128x128xbf16>, %v: tensor<1x2x128x128xbf16>) -> tensor<1x2x128x128xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16> -> tensor<1x2x128x128xbf16>
  %p = tucker.flash %o, %k, %v : tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16>, tensor<1x2x128x128xbf16> -> tensor<1x2x128x128xbf16>
  return %p : tensor<1x2x128x128xbf16>
}

// -----

// Host-side work with no GPU lowering (reading one element) is refused, with
// the op named.
// REFUSE: error: tucker-gpu-pipeline: 'tensor.extract' would run on the host
func.func @host(%x: tensor<64xf32>) -> tensor<2xf32> {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %x[%c0] : tensor<64xf32>
  %y = tensor.from_elements %v, %v : tensor<2xf32>
  return %y : tensor<2xf32>
}

// RUN: tucker-compile %s --target=cuda -o %t.so --signature=%t.json
// RUN: nm -D %t.so | FileCheck %s --check-prefix=SO
// RUN: FileCheck %s --check-prefix=SIG < %t.json
// RUN: tucker-compile %s --target=cuda --emit=mlir -o - | FileCheck %s --check-prefix=ENTRY

// Tests that: a whole Tucker layer (bf16, dense cores, causal) compiles to a
// library with one C entry: the caller's stream, the inputs, the output, and
// the workspace last; the signature says how large the workspace is; the
// dense products call the runtime's tuckerGemm (cuBLASLt), nothing allocates
// device memory per call.
// SO-DAG: T _mlir_ciface_tucker_layer
// SO-DAG: U tuckerGemm
// SO-DAG: U tuckerStreamBegin
// SO-DAG: U mgpuModuleLoadJIT
// SO-NOT: mgpuMemAlloc
// SIG: "entry":"tucker_layer"
// SIG-SAME: "workspace_bytes":{{[1-9][0-9]*}},
// SIG-SAME: "inputs":[{"dtype":"bf16","shape":[2,128,256]},
// SIG-SAME: "outputs":[{"dtype":"bf16","shape":[2,128,256],"dims":[2,128,256]}]
// The C interface: stream, 9 inputs and 1 output (descriptor pointers), the
// workspace descriptor.
// ENTRY: llvm.func @_mlir_ciface_tucker_layer({{(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )(%[^:]+: !llvm.ptr, )}}%{{[^:]+}}: !llvm.ptr)
func.func @tucker_layer(%x: tensor<2x128x256xbf16>, %u1: tensor<8x4xbf16>,
                        %u2: tensor<256x64xbf16>, %u3: tensor<256x32xbf16>,
                        %core: tensor<4x64x32xbf16>, %v1: tensor<8x4xbf16>,
                        %v2: tensor<256x64xbf16>, %v3: tensor<256x32xbf16>,
                        %core_out: tensor<4x64x32xbf16>) -> tensor<2x128x256xbf16> {
  %y = tucker.attention %x, pre(%u1, %u2, %u3, core %core),
         post(%v1, %v2, %v3, core %core_out)
      {ranks = #tucker.ranks<[4, 64, 32], [4, 64, 32]>, scale = 0.17677669529663687 : f64, causal}
      : (tensor<2x128x256xbf16>, tensor<8x4xbf16>, tensor<256x64xbf16>,
         tensor<256x32xbf16>, tensor<4x64x32xbf16>, tensor<8x4xbf16>,
         tensor<256x64xbf16>, tensor<256x32xbf16>, tensor<4x64x32xbf16>)
      -> tensor<2x128x256xbf16>
  return %y : tensor<2x128x256xbf16>
}

// RUN: tucker-compile %s --target=cuda --emit=mlir -o - | FileCheck %s

// The entry of a --target=cuda library runs between tuckerStreamBegin(stream)
// and tuckerStreamEnd(): everything it enqueues, the frees of its dynamically
// sized buffers included (buffer deallocation puts them last), goes to the
// caller's stream, which CUDA graph capture requires.

// CHECK-LABEL: llvm.func @scaled(
// CHECK:         llvm.call @tuckerStreamBegin(%arg0)
// CHECK:         llvm.call @mgpuMemAlloc
// CHECK:         llvm.call @mgpuMemFree
// CHECK-NOT:     mgpuMem
// CHECK:         llvm.call @tuckerStreamEnd()
// CHECK-NEXT:    llvm.return
func.func @scaled(%q: tensor<?x2x?x64xbf16>, %k: tensor<?x2x?x64xbf16>,
                  %v: tensor<?x2x?x64xbf16>) -> tensor<?x2x?x64xbf16> {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x2x?x64xbf16>
  %n = tensor.dim %q, %c2 : tensor<?x2x?x64xbf16>
  %e = tensor.empty(%b, %n) : tensor<?x2x?x64xbf16>
  %q2 = linalg.add ins(%q, %q : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>)
                   outs(%e : tensor<?x2x?x64xbf16>) -> tensor<?x2x?x64xbf16>
  %o = tucker.flash %q2, %k, %v : tensor<?x2x?x64xbf16>, tensor<?x2x?x64xbf16>,
       tensor<?x2x?x64xbf16> -> tensor<?x2x?x64xbf16>
  return %o : tensor<?x2x?x64xbf16>
}

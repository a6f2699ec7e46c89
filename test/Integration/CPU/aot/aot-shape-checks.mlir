// RUN: tucker-compile %s --emit=mlir -o - | FileCheck %s
// RUN: tucker-compile %s -o %t.so
// RUN: nm -D --defined-only %t.so | FileCheck %s --check-prefix=SYMBOLS --implicit-check-not=unchecked

// Tests that: the exported C interface checks the descriptors before it
// calls the entry: each related pair of dynamic sizes (here the reduction K
// that a's columns and b's rows run over, the rows of the output and of a)
// and each static size (b's and the output's 4 columns), in that order of
// the arguments, then the outputs; a failed check formats its message (the
// descriptors, their types, the op and its location) into a thread-local
// buffer and returns it; otherwise it calls the unchecked interface and
// returns NULL.
// CHECK-DAG: llvm.mlir.global internal constant @__tucker_check_0("@mm: argument 1 (tensor<?x4xf32>) dim 0 is %lld but argument 0 (tensor<?x?xf32>) dim 1 is %lld; they must be equal: operands #1 and #0 of 'linalg.matmul' at aot-shape-checks.mlir:{{[0-9]+}}:8 run over its loop 2\00")
// CHECK-DAG: llvm.mlir.global internal constant @__tucker_check_1("@mm: argument 1 (tensor<?x4xf32>) dim 1 is %lld, expected 4 (its type)\00")
// CHECK-DAG: llvm.mlir.global internal constant @__tucker_check_2("@mm: output 0 (tensor<?x4xf32>) dim 0 is %lld but argument 0 (tensor<?x?xf32>) dim 0 is %lld; they must be equal: 'linalg.matmul' at {{.*}} returns its init's shape; operands #2 and #0 of 'linalg.matmul' at {{.*}} run over its loop 0\00")
// CHECK-DAG: llvm.mlir.global internal constant @__tucker_check_3("@mm: output 0 (tensor<?x4xf32>) dim 1 is %lld, expected 4 (its type)\00")
// CHECK-DAG: llvm.mlir.global internal thread_local @__tucker_check_message() {{.*}} : !llvm.array<1024 x i8>
// CHECK-DAG: llvm.func @snprintf(!llvm.ptr, i64, !llvm.ptr, ...) -> i32
// CHECK-LABEL: llvm.func @_mlir_ciface_mm(
// CHECK-SAME: %[[A:[a-z0-9]+]]: !llvm.ptr, %[[B:[a-z0-9]+]]: !llvm.ptr, %[[C:[a-z0-9]+]]: !llvm.ptr) -> !llvm.ptr
// CHECK: %[[BK_PTR:.*]] = llvm.getelementptr %[[B]][0, 3, 0] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
// CHECK: %[[BK:.*]] = llvm.load %[[BK_PTR]] : !llvm.ptr -> i64
// CHECK: %[[AK_PTR:.*]] = llvm.getelementptr %[[A]][0, 3, 1]
// CHECK: %[[AK:.*]] = llvm.load %[[AK_PTR]]
// CHECK: %[[BAD:.*]] = llvm.icmp "ne" %[[BK]], %[[AK]] : i64
// CHECK: llvm.cond_br %[[BAD]], ^[[REFUSE:.*]], ^[[NEXT:[a-z0-9]+]]
// CHECK: ^[[REFUSE]]:
// CHECK: %[[MSG:.*]] = llvm.mlir.addressof @__tucker_check_message
// CHECK: %[[FMT:.*]] = llvm.mlir.addressof @__tucker_check_0
// CHECK: llvm.call @snprintf(%[[MSG]], %{{.*}}, %{{.*}}, %[[BK]], %[[AK]]) vararg
// CHECK: llvm.return %[[MSG]] : !llvm.ptr
// CHECK: llvm.icmp "ne"
// CHECK: llvm.icmp "ne"
// CHECK: llvm.icmp "ne"
// CHECK: llvm.call @__tucker_unchecked_mm(%[[A]], %[[B]], %[[C]])
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: llvm.return %[[NULL]] : !llvm.ptr

// SYMBOLS: T _mlir_ciface_mm
func.func @mm(%a: tensor<?x?xf32>, %b: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %e = tensor.empty(%m) : tensor<?x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x4xf32>)
      outs(%z : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %c : tensor<?x4xf32>
}

// RUN: tucker-opt %s -split-input-file --pass-pipeline='builtin.module(tucker-gpu-map-loops,func.func(gpu-map-parallel-loops),cse)' | FileCheck %s
// RUN: tucker-opt %s -split-input-file --pass-pipeline='builtin.module(tucker-gpu-map-loops{block-size=128},cse)' | FileCheck %s --check-prefix=B128

// Tests that: an elementwise op (bias add and cast) becomes one dim of
// 2·48·96 elements in tiles of 256 (a guard for the tail), delinearized
// innermost first; upstream gpu-map-parallel-loops maps the tiles to blocks
// and their elements to threads.
// CHECK-LABEL: func.func @bias_cast(
// CHECK-DAG:     %[[C96:.+]] = arith.constant 96 : index
// CHECK-DAG:     %[[C48:.+]] = arith.constant 48 : index
// CHECK:         %[[N:.+]] = arith.muli %{{.+}}, %[[C96]] : index
// CHECK:         %[[C256:.+]] = arith.constant 256 : index
// CHECK:         %[[STEP:.+]] = arith.muli %{{.+}}, %[[C256]] : index
// CHECK:         scf.parallel (%[[TILE:.+]]) = (%{{.+}}) to (%[[N]]) step (%[[STEP]]) {
// CHECK:           scf.parallel (%[[T:.+]]) = (%{{.+}}) to (%[[STEP]]) step (%{{.+}}) {
// CHECK:             %[[E:.+]] = arith.addi %[[T]], %[[TILE]] : index
// CHECK:             scf.if
// CHECK:               %[[D2:.+]] = arith.remsi %[[E]], %[[C96]] : index
// CHECK:               %[[R:.+]] = arith.divsi %[[E]], %[[C96]] : index
// CHECK:               %[[D1:.+]] = arith.remsi %[[R]], %[[C48]] : index
// CHECK:               memref.load %{{.+}}[%{{.+}}] : memref<96xf32>
// CHECK:               arith.truncf
// CHECK:               memref.store
// CHECK:           } {mapping = [#gpu.loop_dim_map<processor = thread_x,
// CHECK:         } {mapping = [#gpu.loop_dim_map<processor = block_x,
// CHECK-NOT:     linalg.generic
// B128-LABEL: func.func @bias_cast(
// B128:         %[[C128:.+]] = arith.constant 128 : index
// B128:         %[[STEP:.+]] = arith.muli %{{.+}}, %[[C128]] : index
// B128:         scf.parallel
// B128:           scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[STEP]])
func.func @bias_cast(%x: memref<2x48x96xf32>, %b: memref<96xf32>, %y: memref<2x48x96xbf16>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %b : memref<2x48x96xf32>, memref<96xf32>) outs(%y : memref<2x48x96xbf16>) {
  ^bb0(%v: f32, %c: f32, %o: bf16):
    %s = arith.addf %v, %c : f32
    %t = arith.truncf %s : f32 to bf16
    linalg.yield %t : bf16
  }
  return
}

// -----

// Tests that: a row reduction (an RMS norm's sum of squares) runs one thread
// per row with the reduction a loop in the thread.
// CHECK-LABEL: func.func @row_sum(
// CHECK:         scf.parallel
// CHECK:           scf.parallel
// CHECK:             scf.if
// CHECK:               scf.for
// CHECK:                 memref.load %{{.+}} : memref<64x128xf32>
// CHECK:           } {mapping = [#gpu.loop_dim_map<processor = thread_x,
func.func @row_sum(%x: memref<64x128xf32>, %s: memref<64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x128xf32>) outs(%s : memref<64xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Tests that: an op without parallel dims (a full reduction) runs on the GPU
// too, in a one-iteration loop.
// CHECK-LABEL: func.func @total(
// CHECK:         %[[C1:.+]] = arith.constant 1 : index
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%[[C1]])
// CHECK:           scf.parallel
// CHECK:             arith.cmpi ult, %{{.+}}, %[[C1]] : index
// CHECK:               scf.for
// CHECK:                 memref.store %{{.+}}, %{{.+}}[] : memref<f32>
func.func @total(%x: memref<128xf32>, %s: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%x : memref<128xf32>) outs(%s : memref<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Tests that: a memref.copy (what bufferization inserts) is a GPU copy, not a
// host memcpy of device pointers.
// CHECK-LABEL: func.func @copy(
// CHECK-NOT:     memref.copy
// CHECK:         scf.parallel
// CHECK:           scf.parallel
// CHECK:             %[[V:.+]] = memref.load %{{.+}} : memref<4x8xbf16, strided<[16, 1]>>
// CHECK:             memref.store %[[V]], %{{.+}} : memref<4x8xbf16>
func.func @copy(%x: memref<4x8xbf16, strided<[16, 1]>>, %y: memref<4x8xbf16>) {
  memref.copy %x, %y : memref<4x8xbf16, strided<[16, 1]>> to memref<4x8xbf16>
  return
}

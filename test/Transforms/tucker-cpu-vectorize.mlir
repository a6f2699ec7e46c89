// RUN: tucker-opt %s --tucker-cpu-vectorize=vector-bits=512 -split-input-file | FileCheck %s
// RUN: tucker-opt %s --tucker-cpu-vectorize=vector-bits=256 -split-input-file | FileCheck %s --check-prefix=AVX2

// Tests the register-blocked kernel of a matmul with a dynamic row count:
// with 32 registers of 16 lanes, tiles of 8 rows × 32 columns; the loop over
// the whole 8-row tiles keeps the 8 accumulator rows in registers (read
// before the reduction loop, carried as iter_args, written after it), and
// per reduction step loads one row of B, broadcasts one element of A per
// row and issues 8 FMAs. The rows past the last whole tile (peeled) run one
// row at a time. With 16 registers of 8 lanes: 6 rows × 16 columns.

// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C7:.+]] = arith.constant 7 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK: %[[M:.+]] = memref.dim %{{.+}}, %[[C0]]
// CHECK: %[[WHOLE:.+]] = affine.apply #{{.+}}()[%[[M]]]
// CHECK: scf.for %[[I:.+]] = %[[C0]] to %[[WHOLE]] step %[[C8]] {
// CHECK:   %[[CT:.+]] = memref.subview %{{.+}}[%[[I]], 0] [8, 32] [1, 1]
// CHECK:   %[[ACC0:.+]] = vector.transfer_read %[[CT]][%[[C0]], %[[C0]]]{{.*}} vector<32xf32>
// CHECK:   %[[ACC7:.+]] = vector.transfer_read %[[CT]][%[[C7]], %[[C0]]]{{.*}} vector<32xf32>
// CHECK:   %[[ROWS:.+]]:8 = scf.for %{{.+}} = %[[C0]] to %[[C64]] step %[[C1]] iter_args(%[[R0:.+]] = %[[ACC0]], {{.*}}, %[[R7:.+]] = %[[ACC7]]) -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>) {
// CHECK:     %[[A:.+]] = vector.transfer_read {{.*}} vector<8xf32>
// CHECK:     %[[B:.+]] = vector.transfer_read {{.*}} vector<32xf32>
// CHECK:     %[[A0:.+]] = vector.extract %[[A]][0]
// CHECK:     %[[A0S:.+]] = vector.broadcast %[[A0]] : f32 to vector<32xf32>
// CHECK:     %[[F0:.+]] = vector.fma %[[B]], %[[A0S]], %[[R0]] : vector<32xf32>
// CHECK-COUNT-6: vector.fma %[[B]]
// CHECK:     %[[A7:.+]] = vector.extract %[[A]][7]
// CHECK:     %[[A7S:.+]] = vector.broadcast %[[A7]] : f32 to vector<32xf32>
// CHECK:     %[[F7:.+]] = vector.fma %[[B]], %[[A7S]], %[[R7]] : vector<32xf32>
// CHECK:     scf.yield %[[F0]], {{.*}}, %[[F7]]
// CHECK:   vector.transfer_write %[[ROWS]]#0, %[[CT]][%[[C0]], %[[C0]]]
// CHECK:   vector.transfer_write %[[ROWS]]#7, %[[CT]][%[[C7]], %[[C0]]]
// CHECK: scf.for %{{.+}} = %[[WHOLE]] to %[[M]] step %[[C8]] {
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       vector.fma {{.*}} : vector<32xf32>
// CHECK-NOT: linalg.

// AVX2-LABEL: func.func @matmul
// AVX2-DAG: %[[C6:.+]] = arith.constant 6 : index
// AVX2-DAG: %[[C16:.+]] = arith.constant 16 : index
// AVX2: scf.for %{{.+}} step %[[C6]] {
// AVX2:   scf.for %{{.+}} step %[[C16]] {
// AVX2:     scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// AVX2-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// AVX2:       scf.yield
func.func @matmul(%a: memref<?x64xf32>, %b: memref<64x32xf32>, %c: memref<?x32xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>)
      outs(%c : memref<?x32xf32>)
  return
}

// -----

// Tests a bf16 product accumulated in f32: the operand vectors are
// extended once per reduction step, the FMAs are f32; 16 rows are two
// whole 8-row tiles (no remainder).

// CHECK-LABEL: func.func @matmul_bf16
// CHECK: scf.for
// CHECK:   scf.for {{.*}} -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>) {
// CHECK:     %[[A:.+]] = vector.transfer_read {{.*}} vector<8xbf16>
// CHECK:     %[[B:.+]] = vector.transfer_read {{.*}} vector<32xbf16>
// CHECK:     %[[AF:.+]] = arith.extf %[[A]] : vector<8xbf16> to vector<8xf32>
// CHECK:     %[[BF:.+]] = arith.extf %[[B]] : vector<32xbf16> to vector<32xf32>
// CHECK-COUNT-8: vector.fma %[[BF]]
// CHECK-NOT: scf.for
// CHECK-NOT: linalg.
#x = affine_map<(i, j, k) -> (i, k)>
#w = affine_map<(i, j, k) -> (k, j)>
#o = affine_map<(i, j, k) -> (i, j)>
func.func @matmul_bf16(%a: memref<16x64xbf16>, %b: memref<64x32xbf16>, %c: memref<16x32xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #o],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x64xbf16>, memref<64x32xbf16>) outs(%c : memref<16x32xf32>) {
  ^bb0(%in: bf16, %in_0: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %in_0 : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %out, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

// Tests a row sum of exp2 (as the flash's softmax has them): the vector dim
// is the reduced one (innermost in the input, which outweighs the output),
// 64 lanes at a time with the row's sum carried in a register; exp2 is the
// polynomial approximation of exp (no math op left for libm).

// CHECK-LABEL: func.func @row_sum_exp
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK-DAG: %[[C128:.+]] = arith.constant 128 : index
// CHECK: scf.for
// CHECK:   %[[INIT:.+]] = vector.transfer_read {{.*}} vector<f32>
// CHECK:   %[[SUM:.+]] = scf.for %{{.+}} = %{{.+}} to %[[C128]] step %[[C64]] iter_args(%[[ACC:.+]] = %[[INIT]]) -> (vector<f32>)
// CHECK:     %[[X:.+]] = vector.transfer_read {{.*}} vector<64xf32>
// CHECK-NOT:   math.exp
// CHECK:       math.floor %{{.+}} : vector<64xf32>
// CHECK-NOT:   math.exp
// CHECK:       vector.reduction <add>, %{{.+}}, %{{.+}} : vector<64xf32> into f32
// CHECK:   vector.transfer_write %[[SUM]]
#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
func.func @row_sum_exp(%s: memref<8x128xf32>, %l: memref<8xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%s : memref<8x128xf32>) outs(%l : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp2 %in : f32
    %0 = arith.addf %out, %e : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Tests a product that reduces along its vector dim (scores of a query row
// against key rows plus a bias, as frontends write attention): per output
// element, the product of the two 8-wide rows and one horizontal sum, no
// contraction left (its outer-product lowering would be a chain of scalar
// FMAs).

// CHECK-LABEL: func.func @dot_with_bias
// CHECK: scf.for
// CHECK:   %[[Q:.+]] = vector.transfer_read {{.*}} vector<8xf32>
// CHECK:   %[[K:.+]] = vector.transfer_read {{.*}} vector<8xf32>
// CHECK:   %[[BIAS:.+]] = vector.transfer_read {{.*}} vector<8xf32>
// CHECK:   %[[KB:.+]] = arith.addf %[[K]], %[[BIAS]] : vector<8xf32>
// CHECK:   %[[P:.+]] = arith.mulf %[[Q]], %[[KB]] : vector<8xf32>
// CHECK:   vector.reduction <add>, %[[P]], %{{.+}} : vector<8xf32> into f32
// CHECK-NOT: vector.contract
#q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k = affine_map<(b, h, i, j, d) -> (b, j, h, d)>
#bias = affine_map<(b, h, i, j, d) -> (h, d)>
#s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
func.func @dot_with_bias(%q: memref<2x2x8x8xf32>, %k: memref<2x8x2x8xf32>, %bk: memref<2x8xf32>,
                         %s: memref<2x2x8x8xf32>) {
  linalg.generic {indexing_maps = [#q, #k, #bias, #s],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k, %bk : memref<2x2x8x8xf32>, memref<2x8x2x8xf32>, memref<2x8xf32>)
      outs(%s : memref<2x2x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %out: f32):
    %0 = arith.addf %b, %c : f32
    %1 = arith.mulf %a, %0 : f32
    %2 = arith.addf %out, %1 : f32
    linalg.yield %2 : f32
  }
  return
}

// -----

// Tests a product whose weight is stored [N, K] (y = x·Wᵀ, as a folded
// transposed constant reads): the weight is packed once into [K, N] (a
// linalg.transpose into a new buffer, freed after the product) and the
// product runs as the register-blocked kernel on the packed copy.

// CHECK-LABEL: func.func @packed_weight
// CHECK: %[[PACKED:.+]] = memref.alloc() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK: scf.for
// CHECK:   vector.transfer_write {{.*}} : vector<32xf32>, memref<32xf32
// CHECK: scf.for
// CHECK:   scf.for {{.*}} -> (vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>, vector<32xf32>) {
// CHECK:     memref.subview %[[PACKED]]
// CHECK-COUNT-8: vector.fma
// CHECK: memref.dealloc %[[PACKED]]
#x2 = affine_map<(i, j, k) -> (i, k)>
#wt = affine_map<(i, j, k) -> (j, k)>
#y = affine_map<(i, j, k) -> (i, j)>
func.func @packed_weight(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %y: memref<16x32xf32>) {
  linalg.generic {indexing_maps = [#x2, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%y : memref<16x32xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %out, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// Tests that an op whose maps are not projected permutations stays as it is
// (for convert-linalg-to-loops).

// CHECK-LABEL: func.func @not_taken
// CHECK: linalg.generic
// CHECK-NOT: vector.
#shift = affine_map<(i) -> (i + 1)>
#i = affine_map<(i) -> (i)>
func.func @not_taken(%x: memref<9xf32>, %y: memref<8xf32>) {
  linalg.generic {indexing_maps = [#shift, #i], iterator_types = ["parallel"]}
      ins(%x : memref<9xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

// Tests that: an op with a 16-bit operand that has the vector dim but not
// innermost (here bf16 x + yᵀ) is left to loops: vectorized, that operand
// would be gathered element by element, which LLVM 22's x86 backend cannot
// select for bf16 at -O1 and -O2.

// CHECK-LABEL: func.func @strided_operand
// CHECK-NOT: vector.
// CHECK: linalg.generic
// CHECK-NOT: vector.
// CHECK: return
#rows = affine_map<(i, j) -> (i, j)>
#cols = affine_map<(i, j) -> (j, i)>
func.func @strided_operand(%x: memref<33x32xbf16>, %y: memref<32x33xbf16>, %z: memref<33x32xbf16>) {
  linalg.generic {indexing_maps = [#rows, #cols, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : memref<33x32xbf16>, memref<32x33xbf16>) outs(%z : memref<33x32xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %out: bf16):
    %0 = arith.addf %a, %b : bf16
    linalg.yield %0 : bf16
  }
  return
}

// RUN: rm -rf %t && split-file %s %t
// RUN: tucker-compile %t/kernel.mlir -o %t/libkernel.so --signature=%t/kernel.json
// RUN: FileCheck %s --check-prefix=SIG < %t/kernel.json
// RUN: nm -D --defined-only %t/libkernel.so | FileCheck %s --check-prefix=SYMS --implicit-check-not=scale_rows
// RUN: cc %t/driver.c -o %t/driver -ldl
// RUN: %t/driver %t/libkernel.so | FileCheck %s

// Tests that: tucker-compile builds a shared library whose
// _mlir_ciface_<entry> follows the ABI of tools/tucker-compile/README.md (one
// memref descriptor per input, then one per output that the caller
// allocates), with a dynamic row count taken from the input descriptor, and
// describes the signature (the dynamic output rows are input 0's rows).

// Only the C interface is exported.
// SYMS: T _mlir_ciface_scale_rows

// SIG: {"version":2,"target":"cpu","entry":"scale_rows","symbol":"_mlir_ciface_scale_rows",
// SIG-SAME: "returns":"const char *: NULL, or why the shapes of the call were refused (nothing ran)",
// SIG-SAME: "inputs":[{"dtype":"f32","shape":[null,4]},{"dtype":"f32","shape":[4]}],
// SIG-SAME: "outputs":[{"dtype":"f32","shape":[null,4],"dims":[{"input":0,"dim":0},4]},
// SIG-SAME:            {"dtype":"f32","shape":[null],"dims":[{"input":0,"dim":0}]}]}

// CHECK:      y[0] = 1 3 7 -11 | rowsum 0
// CHECK-NEXT: y[1] = 1 5 10 -15 | rowsum 1
// CHECK-NEXT: y[2] = 1 7 13 -19 | rowsum 2
// CHECK-NEXT: x[0] unchanged: 0 1 2 3
// A row-sum output allocated one row short is refused before anything runs.
// CHECK-NEXT: refused: @scale_rows: output 1 (tensor<?xf32>) dim 0 is 2 but argument 0 (tensor<?x4xf32>) dim 0 is 3; they must be equal: {{.*}}
// CHECK-NEXT: y[0] unchanged: -99 3 7 -11

//--- kernel.mlir
#id = affine_map<(i, j) -> (i, j)>
#col = affine_map<(i, j) -> (j)>
#row = affine_map<(i, j) -> (i)>
// y = x·diag(w) + 1 and the row sums of y.
func.func @scale_rows(%x: tensor<?x4xf32>, %w: tensor<4xf32>)
    -> (tensor<?x4xf32>, tensor<?xf32>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %w : tensor<?x4xf32>, tensor<4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %m, %one : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32>
  %er = tensor.empty(%n) : tensor<?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%er : tensor<?xf32>) -> tensor<?xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%y : tensor<?x4xf32>) outs(%z : tensor<?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  return %y, %sum : tensor<?x4xf32>, tensor<?xf32>
}

//--- driver.c
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

/* The descriptors of README.md, for ranks 1 and 2. */
typedef struct { float *allocated, *aligned; int64_t offset, sizes[1], strides[1]; } Memref1;
typedef struct { float *allocated, *aligned; int64_t offset, sizes[2], strides[2]; } Memref2;
typedef const char *(*Entry)(Memref2 *x, Memref1 *w, Memref2 *y, Memref1 *rowsum);

int main(int argc, char **argv) {
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
  Entry entry = (Entry)dlsym(lib, "_mlir_ciface_scale_rows");
  if (!entry) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
  enum { N = 3 };
  float x[N][4], w[4] = {0, 2, 3, -4}, y[N][4], rowsum[N];
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < 4; ++j)
      x[i][j] = (float)(i + j);
  Memref2 X = {&x[0][0], &x[0][0], 0, {N, 4}, {4, 1}};
  Memref1 W = {w, w, 0, {4}, {1}};
  Memref2 Y = {&y[0][0], &y[0][0], 0, {N, 4}, {4, 1}};
  Memref1 S = {rowsum, rowsum, 0, {N}, {1}};
  const char *refused = entry(&X, &W, &Y, &S);
  if (refused) { fprintf(stderr, "unexpected refusal: %s\n", refused); return 1; }
  for (int i = 0; i < N; ++i)
    printf("y[%d] = %g %g %g %g | rowsum %g\n", i, y[i][0], y[i][1], y[i][2], y[i][3], rowsum[i]);
  printf("x[0] unchanged: %g %g %g %g\n", x[0][0], x[0][1], x[0][2], x[0][3]);
  Memref1 Short = {rowsum, rowsum, 0, {N - 1}, {1}};
  y[0][0] = -99;
  refused = entry(&X, &W, &Y, &Short);
  printf("refused: %s\n", refused ? refused : "(not refused)");
  printf("y[0] unchanged: %g %g %g %g\n", y[0][0], y[0][1], y[0][2], y[0][3]);
  return 0;
}

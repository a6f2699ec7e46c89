// RUN: rm -rf %t && split-file %s %t
// RUN: cc %sanitize_cflags -I%S/../../include %t/explain.c -o %t/explain \
// RUN:   -L%tucker_lib_dir/Runtime -lTuckerCudaRuntime -Wl,-rpath,%tucker_lib_dir/Runtime
// RUN: %t/explain | FileCheck %s --check-prefix=EXPLAIN
// RUN: cc %sanitize_cflags -I%S/../../include %t/call.c -o %t/call \
// RUN:   -L%tucker_lib_dir/Runtime -lTuckerCudaRuntime -Wl,-rpath,%tucker_lib_dir/Runtime
// RUN: env TUCKER_CUBLASLT=%t/no-such-libcublasLt.so not --crash %t/call good 2>&1 | FileCheck %s --check-prefix=NOLIB
// RUN: not --crash %t/call strided 2>&1 | FileCheck %s --check-prefix=STRIDE

// Tests that: the runtime's GEMM (include/tucker/Runtime/Gemm.h) maps a
// row-major product onto cuBLASLt's column-major one, C^T = B^T A^T, with the
// right transposes, leading dims, batch strides and alignments (what
// tuckerGemmExplain reports, with no driver and no cuBLASLt); and that a call
// stops with one message when cuBLASLt cannot be loaded or an operand has no
// unit stride (the compiled code has no error path).

// A projection x[96x128]·w[128x64] + bias, row-major: X = wᵀ is w read
// column-major (64x128, ld 64), Y = xᵀ is x (128x96, ld 128), D = yᵀ (64x96).
// EXPLAIN:      D = op(X) op(Y) + bias: batch 1, outer 1, workspace 1024
// EXPLAIN-NEXT: X: bf16 N 64x128 ld 64 stride 0 align 256
// EXPLAIN-NEXT: Y: bf16 N 128x96 ld 128 stride 0 align 256
// EXPLAIN-NEXT: D: bf16 N 64x96 ld 64 stride 0 align 256
// A transposed weight (w stored [n][k]) read as such: X transposed.
// EXPLAIN-NEXT: D = op(X) op(Y): batch 1, outer 1, workspace 0
// EXPLAIN-NEXT: X: f16 T 128x64 ld 128 stride 0 align 256
// EXPLAIN-NEXT: Y: f16 N 128x96 ld 128 stride 0 align 256
// EXPLAIN-NEXT: D: f32 N 64x96 ld 64 stride 0 align 256
// The per-head query cores: heads a cuBLASLt batch (A broadcast, stride 0),
// batch an outer loop; an address 2 bytes off 256 aligns only to 2.
// EXPLAIN-NEXT: D = op(X) op(Y): batch 8, outer 2, workspace 0
// EXPLAIN-NEXT: X: bf16 N 32x64 ld 32 stride 2048 align 256
// EXPLAIN-NEXT: Y: bf16 N 64x64 ld 64 stride 0 align 2
// EXPLAIN-NEXT: D: f32 N 32x64 ld 32 stride 2048 align 256
// EXPLAIN-NEXT: rc 10003: A has no unit stride (strides 2 and 256): it must be row- or column-major
// EXPLAIN-NEXT: rc 10003: bad sizes m 4, n 4, k 0, batch 1, outer 1 (k, batch and outer must be >= 1)

// NOLIB: tucker gemm: cannot load cuBLASLt ({{.*}}no-such-libcublasLt.so: {{.*}}); put it on LD_LIBRARY_PATH or set TUCKER_CUBLASLT to its path
// STRIDE: tucker gemm: A has no unit stride (strides 2 and 256): it must be row- or column-major

//--- explain.c
#include "tucker/Runtime/Gemm.h"

#include <stdio.h>

static void show(int rc, const char *text) {
  if (rc)
    printf("rc %d: %s\n", rc, text);
  else
    fputs(text, stdout);
}

int main(void) {
  char text[1024];
  char *base = (char *)0x10000;
  /* x[96x128] . w[128x64] + bias, bf16 */
  show(tuckerGemmExplain(text, sizeof text, TUCKER_GEMM_BF16, TUCKER_GEMM_BF16,
                         96, 64, 128, 1, 1, base, 128, 1, 0, 0, base, 64, 1,
                         0, 0, base, 64, 0, 0, base, base, 1024),
       text);
  /* w stored [64][128]: B(k, n) at n*128 + k */
  show(tuckerGemmExplain(text, sizeof text, TUCKER_GEMM_F16, TUCKER_GEMM_F32,
                         96, 64, 128, 1, 1, base, 128, 1, 0, 0, base, 1, 128,
                         0, 0, base, 64, 0, 0, NULL, base, 0),
       text);
  /* q_i = q~ . G_i: m 64, n 32, k 64, 8 heads, 2 batches */
  show(tuckerGemmExplain(text, sizeof text, TUCKER_GEMM_BF16, TUCKER_GEMM_F32,
                         64, 32, 64, 8, 2, base + 2, 64, 1, 0, 4096, base, 32,
                         1, 2048, 0, base, 32, 2048, 16384, NULL, base, 0),
       text);
  show(tuckerGemmExplain(text, sizeof text, TUCKER_GEMM_BF16, TUCKER_GEMM_BF16,
                         4, 4, 4, 1, 1, base, 256, 2, 0, 0, base, 4, 1, 0, 0,
                         base, 4, 0, 0, NULL, base, 0),
       text);
  show(tuckerGemmExplain(text, sizeof text, TUCKER_GEMM_BF16, TUCKER_GEMM_BF16,
                         4, 4, 0, 1, 1, base, 4, 1, 0, 0, base, 4, 1, 0, 0,
                         base, 4, 0, 0, NULL, base, 0),
       text);
  return 0;
}

//--- call.c
#include "tucker/Runtime/Gemm.h"

#include <string.h>

int main(int argc, char **argv) {
  char *base = (char *)0x10000;
  int strided = argc > 1 && strcmp(argv[1], "strided") == 0;
  tuckerGemm(TUCKER_GEMM_BF16, TUCKER_GEMM_BF16, 4, 4, 4, 1, 1, base, 256,
             strided ? 2 : 1, 0, 0, base, 4, 1, 0, 0, base, 4, 0, 0, NULL,
             base, 0);
  return 0;
}

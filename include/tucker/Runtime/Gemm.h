/*===- Gemm.h - tucker's GEMM runtime call (C API) ---------------*- C -*-===*\
|*                                                                            *|
|* The dense matrix products of a compiled layer (projections, per-head       *|
|* query cores, output fold) run through cuBLASLt, which libTuckerCudaRuntime *|
|* loads with dlopen on first use (like the driver): nothing needs CUDA to    *|
|* build. --tucker-gemm-to-runtime emits the calls (lib/Conversion/           *|
|* LinalgToGpu); lib/Runtime/Gemm.cpp implements them.                        *|
|*                                                                            *|
|* One call computes, for every outer batch o < outer and batch i < batch,    *|
|*                                                                            *|
|*   C[o,i] (m x n) = A[o,i] (m x k) . B[o,i] (k x n)  (+ bias, per column)   *|
|*                                                                            *|
|* with f32 accumulation. Element (r, c) of A[o,i] lies at                    *|
|* a + o*aOuter + i*aBatch + r*aRow + c*aCol (elements, not bytes), and so on *|
|* for B; one of the two matrix strides of A and of B must be 1 (row- or     *|
|* column-major, any leading dimension; a stride 0 in a batch broadcasts).   *|
|* C is row-major: element (r, c) at c + o*cOuter + i*cBatch + r*ldc + c.    *|
|* `bias` (nullable, n entries of C's type) is added before the rounding to   *|
|* C's type. The inner batch is one cuBLASLt strided-batched call, the outer  *|
|* one a loop of such calls. `workspace` (device memory, `workspaceBytes`) is *|
|* cuBLASLt's scratch: algorithms that need more are not chosen.             *|
|*                                                                            *|
|* The call is enqueued on the stream of the enclosing C entry (the one       *|
|* mgpuStreamCreate returns, lib/Runtime/MgpuShim.cpp) and does not wait.     *|
|* The plan (layouts and the heuristic's algorithm) is cached per problem.    *|
|* Failures print "tucker gemm: <message>" on stderr and abort, like the      *|
|* mgpu* functions (compiled code has no error path).                         *|
|*                                                                            *|
|* cuBLASLt is looked up as $TUCKER_CUBLASLT, then libcublasLt.so.13, .12,    *|
|* .11 and libcublasLt.so (a process that imported torch has one loaded).     *|
\*===----------------------------------------------------------------------===*/

#ifndef TUCKER_RUNTIME_GEMM_H
#define TUCKER_RUNTIME_GEMM_H

#include "tucker/Runtime/CudaRuntime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types of A/B and of C (bias has C's). */
enum {
  TUCKER_GEMM_F32 = 0,
  TUCKER_GEMM_F16 = 1,
  TUCKER_GEMM_BF16 = 2
};

TUCKER_CUDA_EXPORT void
tuckerGemm(int32_t abType, int32_t cType, int64_t m, int64_t n, int64_t k,
           int64_t batch, int64_t outer, const void *a, int64_t aRow,
           int64_t aCol, int64_t aBatch, int64_t aOuter, const void *b,
           int64_t bRow, int64_t bCol, int64_t bBatch, int64_t bOuter,
           void *c, int64_t ldc, int64_t cBatch, int64_t cOuter,
           const void *bias, void *workspace, int64_t workspaceBytes);

/* What tuckerGemm would ask of cuBLASLt for these arguments, without calling
   it (no driver or library needed): one line per matrix, e.g.
     "D = op(X) op(Y): 96x64 ld 96, batch 4 stride 6144, outer 2\n"
     "X: B N 96x32 ld 96 stride 3072 align 256\n" ...
   Writes at most `size` bytes (NUL-terminated) and returns 0, or the
   TUCKER_CUDA_ERROR_INVALID_ARGUMENT code with the reason in `text`. For
   tests and diagnostics. */
TUCKER_CUDA_EXPORT int
tuckerGemmExplain(char *text, size_t size, int32_t abType, int32_t cType,
                  int64_t m, int64_t n, int64_t k, int64_t batch,
                  int64_t outer, const void *a, int64_t aRow, int64_t aCol,
                  int64_t aBatch, int64_t aOuter, const void *b, int64_t bRow,
                  int64_t bCol, int64_t bBatch, int64_t bOuter, void *c,
                  int64_t ldc, int64_t cBatch, int64_t cOuter,
                  const void *bias, void *workspace, int64_t workspaceBytes);

#ifdef __cplusplus
}
#endif

#endif /* TUCKER_RUNTIME_GEMM_H */

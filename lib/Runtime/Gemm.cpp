//===- Gemm.cpp - cuBLASLt matrix products for compiled layers ------------===//
//
// tuckerGemm (include/tucker/Runtime/Gemm.h): a row-major strided batched
// product, mapped onto one column-major cuBLASLt matmul per outer batch:
// C^T (n x m) = op(X) op(Y) with X = B^T and Y = A^T, so that C is written
// row-major and a bias per column of C is cuBLASLt's bias per row of D.
// cuBLASLt is dlopen'd on first use and its few types and enum values are
// declared here (its stable ABI), so nothing needs CUDA to build.
//
//===----------------------------------------------------------------------===//

#include "tucker/Runtime/Gemm.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// The caller's stream inside a C entry (lib/Runtime/MgpuShim.cpp); it also
// makes the context current.
extern "C" void *mgpuStreamCreate();

namespace {

//===----------------------------------------------------------------------===//
// The problem, in cuBLASLt's terms (no library needed)
//===----------------------------------------------------------------------===//

/// One column-major operand as cuBLASLt sees it.
struct Matrix {
  bool transposed = false; // op(stored) = stored^T
  int64_t rows = 0, cols = 0, ld = 0, batchStride = 0;
  unsigned alignment = 256; // bytes, of every matrix pointer it will see
  bool operator<(const Matrix &o) const {
    return std::tie(transposed, rows, cols, ld, batchStride, alignment) <
           std::tie(o.transposed, o.rows, o.cols, o.ld, o.batchStride,
                    o.alignment);
  }
};

struct Problem {
  int32_t abType = 0, cType = 0;
  int64_t batch = 1, outer = 1;
  Matrix x, y, d; // D = op(X) op(Y)
  bool bias = false;
  int64_t workspaceBytes = 0;
  bool operator<(const Problem &o) const {
    return std::tie(abType, cType, batch, outer, x, y, d, bias,
                    workspaceBytes) < std::tie(o.abType, o.cType, o.batch,
                                               o.outer, o.x, o.y, o.d, o.bias,
                                               o.workspaceBytes);
  }
};

/// The arguments of a tuckerGemm call.
struct Call {
  int32_t abType, cType;
  int64_t m, n, k, batch, outer;
  const char *a;
  int64_t aRow, aCol, aBatch, aOuter;
  const char *b;
  int64_t bRow, bCol, bBatch, bOuter;
  char *c;
  int64_t ldc, cBatch, cOuter;
  const void *bias;
  void *workspace;
  int64_t workspaceBytes;
};

int64_t elementBytes(int32_t type) { return type == TUCKER_GEMM_F32 ? 4 : 2; }

const char *typeName(int32_t type) {
  switch (type) {
  case TUCKER_GEMM_F32:
    return "f32";
  case TUCKER_GEMM_F16:
    return "f16";
  case TUCKER_GEMM_BF16:
    return "bf16";
  }
  return "?";
}

/// The largest power of two (at most 256) dividing the address and every
/// byte stride that moves it between calls or batches.
unsigned alignmentOf(const void *pointer,
                     std::initializer_list<int64_t> bytes) {
  uint64_t bits = reinterpret_cast<uint64_t>(pointer) | 256;
  for (int64_t b : bytes)
    bits |= static_cast<uint64_t>(b);
  return static_cast<unsigned>(bits & (~bits + 1));
}

/// The stored matrix of `op(stored)` = the r x c matrix with element (i, j) at
/// i*rowStride + j*colStride (elements). Column-major when rowStride is 1
/// (or r is 1), else the transpose of a column-major c x r matrix when
/// colStride is 1 (or c is 1). Empty string, or why not.
std::string storedMatrix(Matrix &out, int64_t r, int64_t c, int64_t rowStride,
                         int64_t colStride, const char *name) {
  auto columnMajor = [&](int64_t ld) {
    out.transposed = false;
    out.rows = r;
    out.cols = c;
    out.ld = c == 1 ? std::max<int64_t>(r, 1) : ld;
  };
  auto rowMajor = [&](int64_t ld) {
    out.transposed = true;
    out.rows = c;
    out.cols = r;
    out.ld = r == 1 ? std::max<int64_t>(c, 1) : ld;
  };
  if (rowStride == 1)
    columnMajor(colStride);
  else if (colStride == 1)
    rowMajor(rowStride);
  else if (r == 1)
    columnMajor(colStride);
  else if (c == 1)
    rowMajor(rowStride);
  else
    return std::string(name) + " has no unit stride (strides " +
           std::to_string(rowStride) + " and " + std::to_string(colStride) +
           "): it must be row- or column-major";
  if (out.ld < std::max<int64_t>(out.rows, 1))
    return std::string(name) + " has leading dimension " +
           std::to_string(out.ld) + " below its " + std::to_string(out.rows) +
           " rows (overlapping rows)";
  return "";
}

/// The cuBLASLt problem of a call, or why there is none.
std::string plan(const Call &call, Problem &p) {
  auto typeOk = [](int32_t t) {
    return t == TUCKER_GEMM_F32 || t == TUCKER_GEMM_F16 ||
           t == TUCKER_GEMM_BF16;
  };
  if (!typeOk(call.abType) || !typeOk(call.cType))
    return "unknown element type code (A/B " + std::to_string(call.abType) +
           ", C " + std::to_string(call.cType) + ")";
  if (call.m < 0 || call.n < 0 || call.k < 1 || call.batch < 1 ||
      call.outer < 1)
    return "bad sizes m " + std::to_string(call.m) + ", n " +
           std::to_string(call.n) + ", k " + std::to_string(call.k) +
           ", batch " + std::to_string(call.batch) + ", outer " +
           std::to_string(call.outer) + " (k, batch and outer must be >= 1)";
  if (call.workspaceBytes < 0)
    return "negative workspace size";
  p.abType = call.abType;
  p.cType = call.cType;
  p.batch = call.batch;
  p.outer = call.outer;
  p.bias = call.bias != nullptr;
  p.workspaceBytes = call.workspaceBytes;
  // D = C^T: n x m, column-major with leading dimension ldc.
  p.d.rows = call.n;
  p.d.cols = call.m;
  p.d.ld = call.m == 1 ? std::max<int64_t>(call.n, 1) : call.ldc;
  if (p.d.ld < std::max<int64_t>(call.n, 1))
    return "C has leading dimension " + std::to_string(call.ldc) +
           " below its " + std::to_string(call.n) + " columns";
  // X = B^T (n x k): element (j, l) at l*bRow + j*bCol.
  if (std::string why =
          storedMatrix(p.x, call.n, call.k, call.bCol, call.bRow, "B");
      !why.empty())
    return why;
  // Y = A^T (k x m): element (l, i) at i*aRow + l*aCol.
  if (std::string why =
          storedMatrix(p.y, call.k, call.m, call.aCol, call.aRow, "A");
      !why.empty())
    return why;
  p.x.batchStride = call.bBatch;
  p.y.batchStride = call.aBatch;
  p.d.batchStride = call.cBatch;
  int64_t ab = elementBytes(call.abType), cb = elementBytes(call.cType);
  p.x.alignment = alignmentOf(call.b, {call.bBatch * ab, call.bOuter * ab});
  p.y.alignment = alignmentOf(call.a, {call.aBatch * ab, call.aOuter * ab});
  p.d.alignment = alignmentOf(call.c, {call.cBatch * cb, call.cOuter * cb});
  return "";
}

std::string explain(const Problem &p) {
  char text[512];
  auto line = [](const char *name, const Matrix &mat, int32_t type) {
    char out[160];
    std::snprintf(
        out, sizeof(out), "%s: %s %s %lldx%lld ld %lld stride %lld align %u\n",
        name, typeName(type), mat.transposed ? "T" : "N",
        static_cast<long long>(mat.rows), static_cast<long long>(mat.cols),
        static_cast<long long>(mat.ld), static_cast<long long>(mat.batchStride),
        mat.alignment);
    return std::string(out);
  };
  std::snprintf(text, sizeof(text),
                "D = op(X) op(Y)%s: batch %lld, outer %lld, workspace %lld\n",
                p.bias ? " + bias" : "", static_cast<long long>(p.batch),
                static_cast<long long>(p.outer),
                static_cast<long long>(p.workspaceBytes));
  return text + line("X", p.x, p.abType) + line("Y", p.y, p.abType) +
         line("D", p.d, p.cType);
}

//===----------------------------------------------------------------------===//
// cuBLASLt ABI (the subset we use)
//===----------------------------------------------------------------------===//

using cublasStatus_t = int;
using cublasLtHandle_t = void *;
using cublasLtMatmulDesc_t = void *;
using cublasLtMatrixLayout_t = void *;
using cublasLtMatmulPreference_t = void *;
struct cublasLtMatmulAlgo_t {
  uint64_t data[8];
};
struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};

constexpr int CUBLAS_STATUS_SUCCESS = 0;
constexpr int CUBLAS_COMPUTE_32F = 68;
constexpr int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
constexpr int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
constexpr int CUBLASLT_MATMUL_DESC_TRANSA = 3;
constexpr int CUBLASLT_MATMUL_DESC_TRANSB = 4;
constexpr int CUBLASLT_MATMUL_DESC_EPILOGUE = 7;
constexpr int CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8;
constexpr uint32_t CUBLASLT_EPILOGUE_BIAS = 4;
constexpr int CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = 5;
constexpr int CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6;
constexpr int CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1;
constexpr int CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5;
constexpr int CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6;
constexpr int CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7;
constexpr int CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8;

struct CublasLt {
  cublasStatus_t (*create)(cublasLtHandle_t *);
  const char *(*statusName)(cublasStatus_t);
  cublasStatus_t (*descCreate)(cublasLtMatmulDesc_t *, int, int);
  cublasStatus_t (*descSet)(cublasLtMatmulDesc_t, int, const void *, size_t);
  cublasStatus_t (*layoutCreate)(cublasLtMatrixLayout_t *, int, uint64_t,
                                 uint64_t, int64_t);
  cublasStatus_t (*layoutSet)(cublasLtMatrixLayout_t, int, const void *,
                              size_t);
  cublasStatus_t (*preferenceCreate)(cublasLtMatmulPreference_t *);
  cublasStatus_t (*preferenceSet)(cublasLtMatmulPreference_t, int, const void *,
                                  size_t);
  cublasStatus_t (*preferenceDestroy)(cublasLtMatmulPreference_t);
  cublasStatus_t (*heuristic)(cublasLtHandle_t, cublasLtMatmulDesc_t,
                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                              cublasLtMatmulPreference_t, int,
                              cublasLtMatmulHeuristicResult_t *, int *);
  cublasStatus_t (*matmul)(cublasLtHandle_t, cublasLtMatmulDesc_t, const void *,
                           const void *, cublasLtMatrixLayout_t, const void *,
                           cublasLtMatrixLayout_t, const void *, const void *,
                           cublasLtMatrixLayout_t, void *,
                           cublasLtMatrixLayout_t, const cublasLtMatmulAlgo_t *,
                           void *, size_t, void *);
  cublasLtHandle_t handle = nullptr;
};

[[noreturn]] void fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

[[noreturn]] void fail(const char *fmt, ...) {
  char buffer[2048];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buffer, sizeof(buffer), fmt, args);
  va_end(args);
  std::fprintf(stderr, "tucker gemm: %s\n", buffer);
  std::fflush(stderr);
  std::abort();
}

/// Loads cuBLASLt and creates the handle, once; aborts with the dlopen
/// attempts when there is none.
CublasLt &library() {
  static CublasLt lt;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> names;
    if (const char *env = std::getenv("TUCKER_CUBLASLT"); env && *env)
      names.push_back(env);
    else
      names = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11",
               "libcublasLt.so"};
    void *handle = nullptr;
    std::string attempts;
    for (const std::string &name : names) {
      handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle)
        break;
      const char *why = dlerror();
      attempts += (attempts.empty() ? "" : "; ") + name + ": " +
                  (why ? why : "unknown dlopen error");
    }
    if (!handle)
      fail("cannot load cuBLASLt (%s); put it on LD_LIBRARY_PATH or set "
           "TUCKER_CUBLASLT to its path (a process that imported torch has "
           "it loaded already)",
           attempts.c_str());
    std::string missing;
    auto load = [&](auto &slot, const char *name) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(
          dlsym(handle, name));
      if (!slot)
        missing += std::string(missing.empty() ? "" : ", ") + name;
    };
    load(lt.create, "cublasLtCreate");
    load(lt.statusName, "cublasLtGetStatusName");
    load(lt.descCreate, "cublasLtMatmulDescCreate");
    load(lt.descSet, "cublasLtMatmulDescSetAttribute");
    load(lt.layoutCreate, "cublasLtMatrixLayoutCreate");
    load(lt.layoutSet, "cublasLtMatrixLayoutSetAttribute");
    load(lt.preferenceCreate, "cublasLtMatmulPreferenceCreate");
    load(lt.preferenceSet, "cublasLtMatmulPreferenceSetAttribute");
    load(lt.preferenceDestroy, "cublasLtMatmulPreferenceDestroy");
    load(lt.heuristic, "cublasLtMatmulAlgoGetHeuristic");
    load(lt.matmul, "cublasLtMatmul");
    if (!missing.empty())
      fail("the cuBLASLt library lacks %s", missing.c_str());
    mgpuStreamCreate(); // the context cuBLASLt will run in, current
    if (cublasStatus_t s = lt.create(&lt.handle))
      fail("cublasLtCreate: %s", lt.statusName(s));
  });
  return lt;
}

void check(CublasLt &lt, cublasStatus_t status, const char *call,
           const Problem &p) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail("%s: %s, for\n%s", call, lt.statusName(status), explain(p).c_str());
}

int cudaType(int32_t type) {
  return type == TUCKER_GEMM_F32   ? CUDA_R_32F
         : type == TUCKER_GEMM_F16 ? CUDA_R_16F
                                   : CUDA_R_16BF;
}

/// The cuBLASLt objects and chosen algorithm of one problem. The bias
/// pointer is an attribute of the matmul descriptor, so calls of one plan are
/// serialized (only the host-side enqueue).
struct Plan {
  std::mutex mutex;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t x = nullptr, y = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

std::unique_ptr<Plan> build(CublasLt &lt, const Problem &p) {
  auto plan = std::make_unique<Plan>();
  check(lt, lt.descCreate(&plan->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
        "cublasLtMatmulDescCreate", p);
  int32_t opX = p.x.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  int32_t opY = p.y.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(lt,
        lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opX, sizeof(opX)),
        "cublasLtMatmulDescSetAttribute(TRANSA)", p);
  check(lt,
        lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opY, sizeof(opY)),
        "cublasLtMatmulDescSetAttribute(TRANSB)", p);
  if (p.bias) {
    uint32_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    check(lt,
          lt.descSet(plan->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                     sizeof(epilogue)),
          "cublasLtMatmulDescSetAttribute(EPILOGUE)", p);
  }
  auto layout = [&](cublasLtMatrixLayout_t &out, const Matrix &mat,
                    int32_t type) {
    check(lt, lt.layoutCreate(&out, cudaType(type), mat.rows, mat.cols, mat.ld),
          "cublasLtMatrixLayoutCreate", p);
    if (p.batch == 1)
      return;
    int32_t count = static_cast<int32_t>(p.batch);
    int64_t stride = mat.batchStride;
    check(lt,
          lt.layoutSet(out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                       sizeof(count)),
          "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)", p);
    check(lt,
          lt.layoutSet(out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                       &stride, sizeof(stride)),
          "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)", p);
  };
  layout(plan->x, p.x, p.abType);
  layout(plan->y, p.y, p.abType);
  layout(plan->d, p.d, p.cType);

  cublasLtMatmulPreference_t preference = nullptr;
  check(lt, lt.preferenceCreate(&preference), "cublasLtMatmulPreferenceCreate",
        p);
  uint64_t bytes = static_cast<uint64_t>(p.workspaceBytes);
  check(lt,
        lt.preferenceSet(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                         &bytes, sizeof(bytes)),
        "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", p);
  std::array<std::pair<int, unsigned>, 4> alignments = {
      {{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, p.x.alignment},
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, p.y.alignment},
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, p.d.alignment},
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, p.d.alignment}}};
  for (auto [attribute, value] : alignments) {
    uint32_t v = value;
    check(lt, lt.preferenceSet(preference, attribute, &v, sizeof(v)),
          "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT)", p);
  }
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  cublasStatus_t status =
      lt.heuristic(lt.handle, plan->desc, plan->x, plan->y, plan->d, plan->d,
                   preference, 1, &result, &found);
  lt.preferenceDestroy(preference);
  check(lt, status, "cublasLtMatmulAlgoGetHeuristic", p);
  if (found < 1)
    fail("cuBLASLt has no algorithm for\n%s", explain(p).c_str());
  plan->algo = result.algo;
  return plan;
}

Plan &planFor(CublasLt &lt, const Problem &p) {
  static std::mutex mutex;
  static std::map<Problem, std::unique_ptr<Plan>> plans;
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<Plan> &plan = plans[p];
  if (!plan)
    plan = build(lt, p);
  return *plan;
}

} // namespace

/// The arguments of a tuckerGemm / tuckerGemmExplain call, in order.
#define TUCKER_GEMM_CALL                                                       \
  Call call {                                                                  \
    abType, cType, m, n, k, batch, outer, static_cast<const char *>(a), aRow,  \
        aCol, aBatch, aOuter, static_cast<const char *>(b), bRow, bCol,        \
        bBatch, bOuter, static_cast<char *>(c), ldc, cBatch, cOuter, bias,     \
        workspace, workspaceBytes                                              \
  }

extern "C" TUCKER_CUDA_EXPORT void
tuckerGemm(int32_t abType, int32_t cType, int64_t m, int64_t n, int64_t k,
           int64_t batch, int64_t outer, const void *a, int64_t aRow,
           int64_t aCol, int64_t aBatch, int64_t aOuter, const void *b,
           int64_t bRow, int64_t bCol, int64_t bBatch, int64_t bOuter, void *c,
           int64_t ldc, int64_t cBatch, int64_t cOuter, const void *bias,
           void *workspace, int64_t workspaceBytes) {
  TUCKER_GEMM_CALL;
  Problem p;
  if (std::string why = plan(call, p); !why.empty())
    fail("%s", why.c_str());
  if (m == 0 || n == 0)
    return;
  CublasLt &lt = library();
  void *stream = mgpuStreamCreate();
  Plan &entry = planFor(lt, p);
  std::lock_guard<std::mutex> lock(entry.mutex);
  if (bias)
    check(lt,
          lt.descSet(entry.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                     sizeof(bias)),
          "cublasLtMatmulDescSetAttribute(BIAS_POINTER)", p);
  const float one = 1.0f, zero = 0.0f;
  int64_t ab = elementBytes(abType), cb = elementBytes(cType);
  for (int64_t o = 0; o < outer; ++o) {
    const char *x = call.b + o * bOuter * ab;
    const char *y = call.a + o * aOuter * ab;
    char *d = call.c + o * cOuter * cb;
    check(lt,
          lt.matmul(lt.handle, entry.desc, &one, x, entry.x, y, entry.y, &zero,
                    d, entry.d, d, entry.d, &entry.algo, workspace,
                    static_cast<size_t>(workspaceBytes), stream),
          "cublasLtMatmul", p);
  }
}

extern "C" TUCKER_CUDA_EXPORT int
tuckerGemmExplain(char *text, size_t size, int32_t abType, int32_t cType,
                  int64_t m, int64_t n, int64_t k, int64_t batch, int64_t outer,
                  const void *a, int64_t aRow, int64_t aCol, int64_t aBatch,
                  int64_t aOuter, const void *b, int64_t bRow, int64_t bCol,
                  int64_t bBatch, int64_t bOuter, void *c, int64_t ldc,
                  int64_t cBatch, int64_t cOuter, const void *bias,
                  void *workspace, int64_t workspaceBytes) {
  TUCKER_GEMM_CALL;
  Problem p;
  std::string why = plan(call, p);
  std::string out = why.empty() ? explain(p) : why;
  if (text && size > 0) {
    std::strncpy(text, out.c_str(), size - 1);
    text[size - 1] = '\0';
  }
  return why.empty() ? 0 : TUCKER_CUDA_ERROR_INVALID_ARGUMENT;
}

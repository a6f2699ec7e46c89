// RUN: not tucker-opt %s --tucker-gemm-to-runtime=workspace-bytes=-1 2>&1 | FileCheck %s

// Tests that: a negative cuBLASLt scratch size is refused.
// CHECK: error: --tucker-gemm-to-runtime: workspace-bytes = -1 must be >= 0
func.func @f() {
  return
}

// RUN: not tucker-opt %s --tucker-fold="query-form=fused" 2>&1 | FileCheck %s --check-prefix=OPTION

// Tests that: an unknown form is refused by name. (Every tucker.attention
// folds in the default forms: tucker-fold-selector.mlir; what the absorbed
// query form refuses is in tucker-fold-absorbed-error.mlir.)
// OPTION: tucker-fold: query-form and output-form must be auto, absorbed or two-step, got 'fused' and 'auto'
func.func @f() {
  return
}

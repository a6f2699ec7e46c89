// RUN: not tucker-opt %s --tucker-fold="query-form=fused" 2>&1 | FileCheck %s --check-prefix=OPTION

// Tests that: the forms are a typed option, an unknown one refused by name.
// (Every tucker.attention folds in the default forms: tucker-fold-selector.mlir;
// what the absorbed query form refuses is in tucker-fold-absorbed-error.mlir.)
// OPTION: for the --query-form option: Cannot find option named 'fused'!
func.func @f() {
  return
}

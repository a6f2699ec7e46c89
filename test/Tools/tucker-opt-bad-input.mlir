// RUN: rm -rf %t && split-file %s %t

// Tests that: tucker-opt refuses a missing input, a bad output path, unknown
// or malformed pass and pipeline options, and out-of-range option values with
// one message each and a non-zero exit, never a crash.

// RUN: not tucker-opt %t/missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file '{{.*}}missing.mlir': No such file or directory

// RUN: not tucker-opt %t 2>&1 | FileCheck %s --check-prefix=DIR
// DIR: cannot open input file '{{.*}}': Is a directory

// RUN: not tucker-opt %t/ok.mlir -o %t/no/such/dir/out.mlir 2>&1 | FileCheck %s --check-prefix=OUT
// OUT: cannot open output file '{{.*}}out.mlir': No such file or directory

// RUN: not tucker-opt %t/ok.mlir --tucker-cpu-pipeline='query-tile=abc' 2>&1 | FileCheck %s --check-prefix=NOTINT
// NOTINT: for the --query-tile option: 'abc' value invalid for long argument!

// RUN: not tucker-opt %t/ok.mlir --tucker-cpu-pipeline='tiles=4' 2>&1 | FileCheck %s --check-prefix=NOOPT
// NOOPT: no such option tiles

// RUN: not tucker-opt %t/ok.mlir --tucker-cpu-pipeline='query-form=fastest' 2>&1 | FileCheck %s --check-prefix=ENUM
// ENUM: for the --query-form option: Cannot find option named 'fastest'!

// RUN: not tucker-opt %t/ok.mlir --tucker-cpu-pipeline='key-tile=-4' 2>&1 | FileCheck %s --check-prefix=NEGTILE
// NEGTILE: error: --tucker-flash-to-linalg needs positive tile sizes, got query-tile=64 key-tile=-4

// RUN: not tucker-opt %t/ok.mlir --tucker-flash-to-linalg='query-tile=0' 2>&1 | FileCheck %s --check-prefix=ZEROTILE
// ZEROTILE: error: --tucker-flash-to-linalg needs positive tile sizes, got query-tile=0 key-tile=64

// RUN: not tucker-opt %t/ok.mlir --tucker-fold='query-form=bogus' 2>&1 | FileCheck %s --check-prefix=FOLD
// FOLD: for the --query-form option: Cannot find option named 'bogus'!

// RUN: not tucker-opt %t/ok.mlir --tucker-compress='ranks=1,2' 2>&1 | FileCheck %s --check-prefix=RANKS
// RANKS: error: --tucker-compress: option 'ranks' needs 3 values

// RUN: not tucker-opt %t/ok.mlir --tucker-compress='tolerance=-1' 2>&1 | FileCheck %s --check-prefix=CTOL
// CTOL: error: --tucker-compress: needs 'ranks=r1,r2,r3[,r̃1,r̃2,r̃3]' or a relative error 'tolerance' in (0, 1), got tolerance -1

// RUN: not tucker-opt %t/ok.mlir --tucker-ranks='tolerance=-1' 2>&1 | FileCheck %s --check-prefix=RTOL
// RTOL: error: --tucker-ranks: option 'tolerance' must be in [0, 1), got -1

// RUN: not tucker-opt %t/ok.mlir --pass-pipeline='builtin.module(tucker-lift' 2>&1 | FileCheck %s --check-prefix=PIPE
// PIPE: error:

// RUN: not tucker-opt %t/ok.mlir --tucker-no-such-pass 2>&1 | FileCheck %s --check-prefix=NOPASS
// NOPASS: Unknown command line argument '--tucker-no-such-pass'

//--- ok.mlir
func.func @ok(%a: tensor<2xf32>) -> tensor<2xf32> {
  return %a : tensor<2xf32>
}

// RUN: rm -rf %t && split-file %s %t

// Tests that: tucker-compile refuses bad paths (input, -o, --signature),
// unreadable input and bad code-generation options with one message and exit
// code 1, before compiling where it can; a failed compilation leaves no
// signature file behind. (aot-errors.mlir has the module-level errors.)

// RUN: not tucker-compile %t -o %t/x.so 2>&1 | FileCheck %s --check-prefix=INDIR
// INDIR: tucker-compile: error: cannot read input: cannot open input file '{{.*}}': Is a directory

// RUN: not tucker-compile %t/empty.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: tucker-compile: error: no entry function: the module defines no public func.func with a body

// RUN: printf 'func.func @f(\x01\x02' > %t/binary.mlir
// RUN: not tucker-compile %t/binary.mlir -o %t/x.so 2>&1 | FileCheck %s --check-prefix=BINARY
// BINARY: binary.mlir:1:{{[0-9]+}}: error:
// BINARY: tucker-compile: error: cannot parse or verify

// RUN: not tucker-compile %t/ok.mlir -o %t/no/such/dir/x.so 2>&1 | FileCheck %s --check-prefix=OUTDIR
// OUTDIR: tucker-compile: error: cannot write -o {{.*}}x.so: no directory '{{.*}}dir'

// RUN: not tucker-compile %t/ok.mlir -o %t/sig.so --signature=%t/no/such/dir/x.json 2>&1 | FileCheck %s --check-prefix=SIGDIR
// SIGDIR: tucker-compile: error: cannot open output file '{{.*}}x.json': No such file or directory
// RUN: not test -e %t/sig.so

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --signature=%t 2>&1 | FileCheck %s --check-prefix=SIGISDIR
// SIGISDIR: tucker-compile: error: cannot open output file '{{.*}}': Is a directory

// RUN: not tucker-compile %t/verify.mlir -o %t/x.so --signature=%t/failed.json 2>&1 | FileCheck %s --check-prefix=NOSIG
// NOSIG: tucker-compile: error: cannot parse or verify
// RUN: not test -e %t/failed.json

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --mcpu=no-such-cpu 2>&1 | FileCheck %s --check-prefix=MCPU
// MCPU: tucker-compile: error: --mcpu=no-such-cpu: not a CPU of x86_64{{.*}} (--mcpu=host picks this machine's)
// MCPU-NOT: LLVM ERROR

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so -O7 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: tucker-compile: error: -O7: the optimization level is 0, 1, 2 or 3

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --emit=exe 2>&1 | FileCheck %s --check-prefix=EMIT
// EMIT: for the --emit option: Cannot find option named 'exe'!

// RUN: not tucker-compile %t/flash.mlir -o %t/x.so --pipeline-options='query-tile=0' 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: --tucker-flash-to-linalg needs positive tile sizes, got query-tile=0 key-tile=64
// TILE: tucker-compile: error: the CPU pipeline (--tucker-cpu-pipeline) failed

// RUN: not tucker-compile %t/ok.mlir -o %t/x.so --pipeline-options='no-such-option=1' 2>&1 | FileCheck %s --check-prefix=NOOPT
// NOOPT: tucker-compile: error: invalid --pipeline-options='no-such-option=1' for --tucker-cpu-pipeline

// RUN: not tucker-compile 2>&1 | FileCheck %s --check-prefix=NOARGS
// NOARGS: tucker-compile: error: no input file (usage: tucker-compile in.mlir -o libkernel.so)

// The generic CPU is a valid --mcpu.
// RUN: tucker-compile %t/ok.mlir -o %t/generic.so --mcpu=x86-64 --signature=%t/generic.json
// RUN: test -s %t/generic.json

//--- empty.mlir
//--- ok.mlir
func.func @ok(%a: tensor<2xf32>) -> tensor<2xf32> {
  %b = arith.addf %a, %a : tensor<2xf32>
  return %b : tensor<2xf32>
}
//--- verify.mlir
func.func @f(%q: tensor<1x3x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>)
    -> tensor<1x3x8x16xf32> {
  %o = tucker.flash %q, %k, %v : tensor<1x3x8x16xf32>, tensor<1x2x8x16xf32>,
      tensor<1x2x8x16xf32> -> tensor<1x3x8x16xf32>
  return %o : tensor<1x3x8x16xf32>
}
//--- flash.mlir
func.func @f(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>)
    -> tensor<1x2x8x16xf32> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>,
      tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

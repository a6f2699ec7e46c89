// RUN: rm -rf %t && split-file %s %t
// RUN: tucker-compile %t/flash.mlir --target=cuda -o %t/libflash.so
// RUN: cc %sanitize_cflags %t/linked.c -Wl,--no-as-needed %t/libflash.so -Wl,-rpath,%t -o %t/linked
// RUN: cc %sanitize_cflags %t/loaded.c -o %t/loaded -ldl
// RUN: env TUCKER_CUDA_DRIVER=%t/no-such-libcuda.so.1 not --crash %t/linked 2>&1 \
// RUN:   | FileCheck %s --implicit-check-not=main:
// RUN: env TUCKER_CUDA_DRIVER=%t/no-such-libcuda.so.1 not --crash %t/loaded %t/libflash.so 2>&1 \
// RUN:   | FileCheck %s --check-prefixes=CHECK,LOADED --implicit-check-not=loaded:

// Tests that: a library built by tucker-compile --target=cuda, used where the
// CUDA driver cannot be loaded (TUCKER_CUDA_DRIVER points at a missing file,
// as libcuda.so.1 is missing on a machine without the NVIDIA driver), stops
// the program with one message that names the driver library, the reason and
// the fix, and a non-zero exit (abort), when the kernels are loaded: at
// program start for a linked library, in dlopen for a loaded one. No entry is
// ever called with a half-initialized runtime.

// LOADED: dlopen
// CHECK: tucker mgpu: mgpuModuleLoadJIT: cannot load the CUDA driver library ({{[^ ]*}}no-such-libcuda.so.1: cannot open shared object file: No such file or directory); is an NVIDIA driver installed? (set TUCKER_CUDA_DRIVER to its path if it is elsewhere)

//--- flash.mlir
func.func @flash(%q: tensor<1x2x64x64xbf16>, %k: tensor<1x2x64x64xbf16>, %v: tensor<1x2x64x64xbf16>)
    -> tensor<1x2x64x64xbf16> {
  %o = tucker.flash %q, %k, %v : tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>,
      tensor<1x2x64x64xbf16> -> tensor<1x2x64x64xbf16>
  return %o : tensor<1x2x64x64xbf16>
}

//--- linked.c
#include <stdio.h>
int main(void) {
  printf("main: reached with the kernels unloaded\n");
  return 0;
}

//--- loaded.c
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
  (void)argc;
  fprintf(stderr, "dlopen\n");
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "loaded: dlopen failed: %s\n", dlerror());
    return 1;
  }
  fprintf(stderr, "loaded: dlopen returned\n");
  return 0;
}

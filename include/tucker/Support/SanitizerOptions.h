//===- SanitizerOptions.h - Defaults of sanitized tucker tools --*- C++ -*-===//
//
// Included once by each tool's main file. In a build with AddressSanitizer
// (-DTUCKER_SANITIZE=ON, or the fuzz build) it sets ASan's defaults:
//
//   allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons the unused part
//   of its slabs when the code that instantiates it is built with ASan. Our
//   instrumented tools export those inline instantiations, libMLIR.so (not
//   instrumented) binds to them, and then writes into memory it never
//   unpoisoned: a false use-after-poison in the parser. Manual poisoning is
//   off; every other ASan check stays on. ASAN_OPTIONS still overrides.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_SUPPORT_SANITIZEROPTIONS_H
#define TUCKER_SUPPORT_SANITIZEROPTIONS_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TUCKER_ASAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TUCKER_ASAN_BUILD 1
#endif

#ifdef TUCKER_ASAN_BUILD
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
#endif

#endif // TUCKER_SUPPORT_SANITIZEROPTIONS_H

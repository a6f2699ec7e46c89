//===- TuckerPlugin.cpp - tucker as a plugin of a stock mlir-opt ----------===//
//
// One shared object for both plugin hooks of mlir-opt:
//
//   mlir-opt --load-dialect-plugin=TuckerPlugin.so   (the dialect + passes)
//   mlir-opt --load-pass-plugin=TuckerPlugin.so      (passes + pipelines)
//
// It links the tucker libraries statically and MLIR as the shared libMLIR.so
// that the host mlir-opt itself uses, so there is one copy of every upstream
// registration, TypeID and context-owned object in the process.
//
//===----------------------------------------------------------------------===//

#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"
#include "tucker/Pipelines/Pipelines.h"
#include "tucker/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

using namespace mlir;

/// The tucker passes and pipelines, once per process (a pipeline name may
/// only be registered once, and both hooks may be loaded).
static void registerTuckerPasses() {
  static bool registered = [] {
    tucker::registerTuckerTransformsPasses();
    tucker::registerTuckerConversionPasses();
    tucker::registerTuckerProjectPasses();
    tucker::registerTuckerPipelines();
    return true;
  }();
  (void)registered;
}

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "Tucker", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            registry->insert<tucker::TuckerDialect>();
            registerTuckerPasses();
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "TuckerPasses", LLVM_VERSION_STRING,
          []() { registerTuckerPasses(); }};
}

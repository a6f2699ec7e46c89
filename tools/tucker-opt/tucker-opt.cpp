//===- tucker-opt.cpp - The tucker optimizer driver -----------------------===//
//
// mlir-opt with the tucker dialect, its passes and pipelines, and the
// upstream dialects and passes that the pipelines use.
//
//===----------------------------------------------------------------------===//

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"
#include "tucker/Pipelines/Pipelines.h"
#include "tucker/Support/SanitizerOptions.h"
#include "tucker/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates gpu.module bodies to LLVM IR in-process.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::registerAllPasses();
  registry.insert<mlir::tucker::TuckerDialect>();
  mlir::tucker::registerTuckerTransformsPasses();
  mlir::tucker::registerTuckerConversionPasses();
  mlir::tucker::registerTuckerProjectPasses();
  mlir::tucker::registerTuckerPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tucker optimizer driver\n", registry));
}

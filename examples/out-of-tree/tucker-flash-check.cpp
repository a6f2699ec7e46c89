//===- tucker-flash-check.cpp - A tool built against an installed tucker --===//
//
// Parses an MLIR file (or standard input) with the tucker dialect, verifies
// it, and prints one line per tucker.flash op: its function, operand types,
// result types and query heads per key/value head. Exits with 1 and the
// verifier's diagnostic when the file does not parse or verify.
//
//   tucker-flash-check FILE.mlir
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace mlir;

static void printTypes(llvm::raw_ostream &os, TypeRange types) {
  llvm::interleaveComma(types, os, [&](Type t) { os << t; });
}

int main(int argc, char **argv) {
  if (argc > 2) {
    llvm::errs() << "usage: " << argv[0] << " [FILE.mlir]\n";
    return 2;
  }
  std::string path = argc == 2 ? argv[1] : "-";

  DialectRegistry registry;
  registry.insert<tucker::TuckerDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(path, &error);
  if (!input) {
    llvm::errs() << error << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  // Parse without the parser's own verification, then verify explicitly.
  ParserConfig config(&context, /*verifyAfterParse=*/false);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, config);
  if (!module)
    return 1;
  if (failed(verify(*module)))
    return 1;

  unsigned count = 0;
  module->walk([&](tucker::FlashOp flash) {
    Operation *op = flash.getOperation();
    auto func = op->getParentOfType<func::FuncOp>();
    llvm::outs() << "tucker.flash in @" << (func ? func.getSymName() : "?")
                 << ": ";
    printTypes(llvm::outs(), op->getOperandTypes());
    llvm::outs() << " -> ";
    printTypes(llvm::outs(), op->getResultTypes());
    auto q = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
    auto k = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
    if (q && k && !q.isDynamicDim(1) && !k.isDynamicDim(1) && k.getDimSize(1))
      llvm::outs() << " (" << q.getDimSize(1) / k.getDimSize(1)
                   << " query heads per key/value head)";
    llvm::outs() << "\n";
    ++count;
  });
  llvm::outs() << count << " tucker.flash op(s) verified\n";
  return 0;
}

//===- tucker-fuzz.cpp - libFuzzer target over the tucker compiler --------===//
//
// One input is the text of an MLIR module. The target parses it, verifies it
// and, when it verifies, runs the tucker passes and --tucker-cpu-pipeline on
// clones of it, all in one process with every diagnostic captured. What the
// compiler must do with any input is end in success or in diagnostics; the
// target turns each of these into a crash that libFuzzer reports:
//
//  * a crash, an assertion, a sanitizer report or a hang (libFuzzer's
//    -timeout) anywhere in parse, verify or a pass;
//  * a pass that succeeds but leaves IR that does not verify (checked after
//    every pass, naming it);
//  * a pipeline that fails without having emitted an error.
//
// Scope: the input may use the builtin, func, arith and tucker dialects
// (inputs that name any other registered dialect are skipped before parsing:
// upstream parsers and verifiers crash on some malformed IR, e.g.
// `linalg.generic {iterator_types = [0]}`, and are upstream's to fix), and
// may nest brackets at most kMaxNesting deep (MLIR's parser recurses without
// a limit and overflows the stack on some thousands of `[`). Every
// module that parses is verified; the passes run on modules whose ops are
// tucker ops, func ops and arith.constant (what the dialect's users write).
//
// Built with -DTUCKER_ENABLE_FUZZER=ON (clang); scripts/fuzz.sh builds it,
// seeds it from the lit inputs and runs it for a bounded time.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/Transforms/Passes.h"
#include "tucker/Pipelines/Pipelines.h"
#include "tucker/Support/SanitizerOptions.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

using namespace mlir;

namespace {

/// The pipelines each input runs through (each on its own clone of the
/// module), in tucker-opt's textual syntax.
const char *const kPipelines[] = {
    "builtin.module(canonicalize)",
    "builtin.module(tucker-lift,tucker-fold,canonicalize,tucker-fuse-rope,"
    "tucker-flash-to-linalg{query-tile=16 key-tile=16})",
    "builtin.module(tucker-lift,tucker-fold{query-form=absorbed "
    "output-form=absorbed},tucker-flash-to-linalg{query-tile=5 key-tile=3})",
    "builtin.module(tucker-ranks{report-skipped=true},"
    "tucker-compress{tolerance=1.0e-2})",
    "builtin.module(tucker-compress{ranks=1,1,1})",
    "builtin.module(tucker-cpu-pipeline)",
};

/// Counts error diagnostics and drops every diagnostic (nothing is printed:
/// a diagnostic is a correct answer to a bad input, not a finding).
struct Capture {
  unsigned errors = 0;
};

/// Verifies the IR after every pass that succeeded; a pass that leaves
/// invalid IR is a bug, reported with the pass's name.
struct VerifyAfterEachPass : public PassInstrumentation {
  explicit VerifyAfterEachPass(const char *pipeline) : pipeline(pipeline) {}
  void runAfterPass(Pass *pass, Operation *op) override {
    if (succeeded(verify(op)))
      return;
    llvm::errs() << "tucker-fuzz: pass '" << pass->getArgument()
                 << "' succeeded but left IR that does not verify (pipeline "
                 << pipeline << ")\n";
    std::abort();
  }
  const char *pipeline;
};

/// Deeper bracket nesting is skipped (see the scope above).
constexpr int kMaxNesting = 200;

bool nestsTooDeep(llvm::StringRef text) {
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '(' || c == '{' || c == '<')
      ++depth;
    else if (c == ']' || c == ')' || c == '}' || c == '>')
      depth = std::max(0, depth - 1);
    if (depth > kMaxNesting)
      return true;
  }
  return false;
}

/// Whether `text` names a dialect other than builtin, func, arith and
/// tucker: `name.` at the start of an op, attribute or type name (`"name.`,
/// `#name.`, `!name.` or a bare `name.`), not inside an SSA, block or symbol
/// name.
bool namesOtherDialect(llvm::StringRef text) {
  static const llvm::StringSet<> other = [] {
    llvm::StringSet<> names;
    DialectRegistry registry;
    registerAllDialects(registry);
    for (llvm::StringRef name : registry.getDialectNames())
      if (name != "builtin" && name != "func" && name != "arith" &&
          name != tucker::TuckerDialect::getDialectNamespace())
        names.insert(name);
    return names;
  }();
  auto isIdent = [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$' || c == '-' || c == '.';
  };
  for (size_t i = 0, e = text.size(); i < e;) {
    if (!llvm::isAlpha(text[i]) && text[i] != '_') {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < e && (llvm::isAlnum(text[i]) || text[i] == '_'))
      ++i;
    bool inName = start > 0 && (isIdent(text[start - 1]) ||
                                text[start - 1] == '%' ||
                                text[start - 1] == '^' ||
                                text[start - 1] == '@');
    if (!inName && i < e && text[i] == '.' &&
        other.contains(text.slice(start, i)))
      return true;
    // Skip the rest of a dotted name (`arith.constant`, `%a.b`).
    while (i < e && isIdent(text[i]))
      ++i;
  }
  return false;
}

bool isInScope(Operation *op) {
  if (isa<ModuleOp, func::FuncOp, func::ReturnOp, func::CallOp,
          arith::ConstantOp>(op))
    return true;
  return op->getDialect() &&
         op->getDialect()->getNamespace() == tucker::TuckerDialect::
                                                 getDialectNamespace();
}

MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    registerAllDialects(registry);
    registerAllExtensions(registry);
    registry.insert<tucker::TuckerDialect>();
    auto *c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    c->printOpOnDiagnostic(false);
    c->printStackTraceOnDiagnostic(false);
    return c;
  }();
  return *ctx;
}

void runPipeline(ModuleOp module, const char *text, Capture &capture) {
  MLIRContext &ctx = context();
  PassManager pm(&ctx);
  // Verification is done by the instrumentation, so that a pass that breaks
  // the IR is told apart from an input that a pass refuses.
  pm.enableVerifier(false);
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  if (failed(parsePassPipeline(text, pm, errorStream))) {
    llvm::errs() << "tucker-fuzz: bad built-in pipeline '" << text
                 << "': " << error << "\n";
    std::abort();
  }
  pm.addInstrumentation(std::make_unique<VerifyAfterEachPass>(text));
  OwningOpRef<ModuleOp> clone = module.clone();
  unsigned before = capture.errors;
  if (failed(pm.run(*clone)) && capture.errors == before) {
    llvm::errs() << "tucker-fuzz: pipeline " << text
                 << " failed without an error diagnostic\n";
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  registerAllPasses();
  tucker::registerTuckerTransformsPasses();
  tucker::registerTuckerConversionPasses();
  tucker::registerTuckerPipelines();
  (void)context();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MLIRContext &ctx = context();
  Capture capture;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      ++capture.errors;
    return success();
  });

  std::string text(reinterpret_cast<const char *>(data), size);
  if (nestsTooDeep(text) || namesOtherDialect(text))
    return 0;
  ParserConfig config(&ctx, /*verifyAfterParse=*/false);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, config);
  if (!module)
    return 0;
  bool inScope = true;
  module->walk([&](Operation *op) {
    if (!isInScope(op)) {
      inScope = false;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (failed(verify(*module)) || !inScope)
    return 0;
  for (const char *pipeline : kPipelines)
    runPipeline(*module, pipeline, capture);
  return 0;
}

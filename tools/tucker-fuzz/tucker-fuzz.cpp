//===- tucker-fuzz.cpp - libFuzzer target over the tucker compiler --------===//
//
// One input is the text of an MLIR module. The target parses it, verifies it
// and, when it verifies, runs the tucker passes, --tucker-cpu-pipeline and
// the GPU kernel generator (--tucker-flash-to-gpu) on clones of it, all in
// one process with every diagnostic captured. What the compiler must do with
// any input is end in success or in diagnostics; the target turns each of
// these into a crash that libFuzzer reports:
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
// Mutations: half are libFuzzer's byte-level ones (with the dictionary), half
// are structured ones that keep the text parseable far more often (byte-level
// mutants of MLIR mostly fail to parse and never reach a pass): one tensor
// type rewritten everywhere it occurs (a dimension changed, added or dropped,
// or the element type swapped), so that uses still match their definitions
// and the verifiers and passes see the new shapes; or one number replaced by
// an extreme value of its kind.
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
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

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
    // The GPU kernel generator (IR only: nothing here needs a GPU or ptxas).
    "builtin.module(tucker-lift,tucker-fold,canonicalize,tucker-fuse-rope,"
    "tucker-gpu-configure{kv-splits=3},tucker-flash-to-gpu)",
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
    bool inName =
        start > 0 && (isIdent(text[start - 1]) || text[start - 1] == '%' ||
                      text[start - 1] == '^' || text[start - 1] == '@');
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
  return op->getDialect() && op->getDialect()->getNamespace() ==
                                 tucker::TuckerDialect::getDialectNamespace();
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

//===----------------------------------------------------------------------===//
// Structured mutations
//===----------------------------------------------------------------------===//

using Rng = std::minstd_rand;

template <typename T, size_t N> const T &pick(const T (&values)[N], Rng &rng) {
  return values[rng() % N];
}

bool isIdentChar(char c) { return llvm::isAlnum(c) || c == '_' || c == '$'; }

/// Every `tensor<...>` type spelled in `text` (ranked, with an element type
/// and no nested `<`), as (offset, length).
std::vector<std::pair<size_t, size_t>> tensorTypes(llvm::StringRef text) {
  std::vector<std::pair<size_t, size_t>> types;
  for (size_t at = text.find("tensor<"); at != llvm::StringRef::npos;
       at = text.find("tensor<", at + 1)) {
    size_t close = text.find_first_of("<>", at + 7);
    if (close != llvm::StringRef::npos && text[close] == '>')
      types.push_back({at, close + 1 - at});
  }
  return types;
}

/// A tensor type with one change: a dimension set to an extreme or nearby
/// size, a dimension dropped or duplicated, or another element type.
std::string mutateTensorType(llvm::StringRef type, Rng &rng) {
  static const char *const kSizes[] = {
      "0",  "1",       "2",          "3",
      "5",  "7",       "16",         "17",
      "63", "64",      "65",         "128",
      "?",  "1048576", "2147483648", "9223372036854775807"};
  static const char *const kElements[] = {"f32", "f16", "bf16", "f64",
                                          "i32", "i64", "i1",   "f8E4M3FN"};
  llvm::SmallVector<llvm::StringRef> parts;
  type.drop_front(7).drop_back().split(parts, 'x');
  // The element type is what follows the last dimension (`index` holds an
  // `x`, so rejoin from the first part that is not a size).
  size_t rank = 0;
  while (rank < parts.size() &&
         (parts[rank] == "?" ||
          (!parts[rank].empty() && llvm::all_of(parts[rank], llvm::isDigit))))
    ++rank;
  std::vector<std::string> dims(parts.begin(), parts.begin() + rank);
  std::string element = llvm::join(llvm::ArrayRef(parts).drop_front(rank), "x");
  switch (rng() % 4) {
  case 0:
    if (!dims.empty()) {
      dims[rng() % dims.size()] = pick(kSizes, rng);
      break;
    }
    [[fallthrough]];
  case 1:
    element = pick(kElements, rng);
    break;
  case 2:
    if (!dims.empty())
      dims.erase(dims.begin() + rng() % dims.size());
    break;
  default: {
    size_t at = dims.empty() ? 0 : rng() % dims.size();
    dims.insert(dims.begin() + at, dims.empty() ? "1" : dims[at]);
  }
  }
  std::string out = "tensor<";
  for (const std::string &dim : dims)
    out += dim + "x";
  return out + element + ">";
}

/// Replaces one tensor type everywhere it occurs.
std::string mutateTypes(llvm::StringRef text, Rng &rng) {
  auto types = tensorTypes(text);
  if (types.empty())
    return "";
  auto [at, length] = types[rng() % types.size()];
  std::string from = text.substr(at, length).str();
  std::string to = mutateTensorType(from, rng);
  std::string out;
  size_t last = 0;
  for (size_t i = text.find(from); i != llvm::StringRef::npos;
       i = text.find(from, i + from.size())) {
    out.append(text.data() + last, i - last);
    out += to;
    last = i + from.size();
  }
  out.append(text.data() + last, text.size() - last);
  return out;
}

/// Replaces one integer or float literal (not part of a name) by an extreme
/// value of its kind.
std::string mutateNumber(llvm::StringRef text, Rng &rng) {
  static const char *const kIntegers[] = {"0",
                                          "1",
                                          "-1",
                                          "2",
                                          "3",
                                          "7",
                                          "64",
                                          "65536",
                                          "2147483647",
                                          "2147483648",
                                          "4611686018427387904",
                                          "9223372036854775807",
                                          "-9223372036854775808"};
  static const char *const kFloats[] = {"0.0",     "-0.0",     "1.0e-30",
                                        "1.0e+30", "1.0e+300", "-1.0e+300",
                                        "0.5",     "1.0e-45",  "65504.0"};
  std::vector<std::pair<size_t, size_t>> numbers;
  auto digits = [&](size_t i) {
    while (i < text.size() && llvm::isDigit(text[i]))
      ++i;
    return i;
  };
  for (size_t i = 0, e = text.size(); i < e;) {
    if (!llvm::isDigit(text[i]) ||
        (i > 0 &&
         (isIdentChar(text[i - 1]) || text[i - 1] == '%' ||
          text[i - 1] == '@' || text[i - 1] == '^' || text[i - 1] == '.'))) {
      ++i;
      continue;
    }
    size_t start = i > 0 && text[i - 1] == '-' ? i - 1 : i;
    if (text.substr(i).starts_with("0x")) { // hex bit patterns stay
      i += 2;
      continue;
    }
    i = digits(i);
    if (i + 1 < e && text[i] == '.' && llvm::isDigit(text[i + 1]))
      i = digits(i + 1);
    if (i + 1 < e && (text[i] == 'e' || text[i] == 'E')) {
      size_t exponent = i + 1;
      if (text[exponent] == '+' || text[exponent] == '-')
        ++exponent;
      if (exponent < e && llvm::isDigit(text[exponent]))
        i = digits(exponent);
    }
    numbers.push_back({start, i - start});
  }
  if (numbers.empty())
    return "";
  auto [at, length] = numbers[rng() % numbers.size()];
  llvm::StringRef number = text.substr(at, length);
  bool isFloat = number.contains('.') || number.contains_insensitive("e");
  std::string out = text.take_front(at).str();
  out += isFloat ? pick(kFloats, rng) : pick(kIntegers, rng);
  out += text.drop_front(at + length).str();
  return out;
}

} // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t maxSize);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,
                                          size_t maxSize, unsigned seed) {
  Rng rng(seed);
  if (rng() % 2 == 0)
    return LLVMFuzzerMutate(data, size, maxSize);
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  std::string mutated =
      rng() % 2 == 0 ? mutateTypes(text, rng) : mutateNumber(text, rng);
  if (mutated.empty() || mutated.size() > maxSize)
    return LLVMFuzzerMutate(data, size, maxSize);
  std::memcpy(data, mutated.data(), mutated.size());
  return mutated.size();
}

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

//===- tucker-compile.cpp - Ahead-of-time compiler to a shared library ----===//
//
//   tucker-compile in.mlir -o libkernel.so [--target=cpu] [--entry=NAME]
//                  [--pipeline-options='...'] [--signature=kernel.json]
//
// Parses a module (tucker ops or linalg on tensors), runs the target's
// pipeline in-process (for cpu: --tucker-cpu-pipeline, built by
// buildTuckerCpuPipeline), translates the LLVM dialect to LLVM IR, optimizes
// it, emits a host object with LLVM's TargetMachine and links a shared
// library with the system C compiler. The entry point is exported with the C
// interface `_mlir_ciface_<entry>`; README.md in this directory documents the
// ABI and the signature sidecar.
//
// The compilation is split in a target-independent front (read, parse, pick
// and check the entry, describe its signature) and one backend per target;
// --target=cuda is the second backend (--tucker-gpu-pipeline).
//
//===----------------------------------------------------------------------===//

#include "EntryChecks.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"
#include "tucker/Pipelines/Pipelines.h"
#include "tucker/Support/SanitizerOptions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Matchers.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <optional>
#include <string>

#ifndef TUCKER_MLIR_RUNTIME_DIR
#define TUCKER_MLIR_RUNTIME_DIR ""
#endif

using namespace mlir;
namespace cl = llvm::cl;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static cl::OptionCategory toolCategory("tucker-compile options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<input .mlir file>"),
                                          cl::cat(toolCategory));
static cl::opt<std::string>
    outputFilename("o", cl::desc("Output file (the shared library, or what "
                                 "--emit asks for)"),
                   cl::value_desc("file"), cl::cat(toolCategory));
static cl::opt<std::string>
    targetName("target", cl::desc("Target: cpu or cuda (the GPU pipeline; "
                                  "entry takes device pointers)"),
               cl::init("cpu"), cl::cat(toolCategory));
static cl::opt<std::string>
    entryName("entry",
              cl::desc("Entry function (default: the only public func.func "
                       "with a body)"),
              cl::value_desc("name"), cl::cat(toolCategory));
static cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Options of the target pipeline, as in "
             "--tucker-cpu-pipeline='...', e.g. 'query-tile=32 key-tile=32'"),
    cl::value_desc("options"), cl::cat(toolCategory));
static cl::opt<std::string> signatureFilename(
    "signature",
    cl::desc("Also write the entry's signature (argument and result "
             "shapes and element types) as JSON to this file"),
    cl::value_desc("file"), cl::cat(toolCategory));

enum class EmitKind { SharedLib, Object, LLVMIR, MLIR };
static cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write to -o"), cl::init(EmitKind::SharedLib),
    cl::values(clEnumValN(EmitKind::SharedLib, "shared-lib",
                          "a shared library (default)"),
               clEnumValN(EmitKind::Object, "obj", "the host object file"),
               clEnumValN(EmitKind::LLVMIR, "llvm",
                          "the optimized LLVM IR (text)"),
               clEnumValN(EmitKind::MLIR, "mlir",
                          "the module after the pipeline (LLVM dialect)")),
    cl::cat(toolCategory));
// -O3 by default: -O2 compiles a layer 3-4 times faster (mostly less loop
// unrolling) but runs the CPU benchmark's Llama layer up to 40 % slower
// (docs/perf.md).
static cl::opt<unsigned>
    optLevel("O", cl::desc("LLVM optimization level (default 3)"), cl::init(3),
             cl::Prefix, cl::cat(toolCategory));
static cl::opt<std::string>
    cpuName("mcpu",
            cl::desc("CPU to generate code for: host (default: this "
                     "machine's CPU and features) or an LLVM CPU name"),
            cl::init("host"), cl::cat(toolCategory));
static cl::opt<std::string>
    ccName("cc",
           cl::desc("C compiler that links the shared library (default: "
                    "$CC, else cc)"),
           cl::value_desc("program"), cl::cat(toolCategory));

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

static LogicalResult fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tucker-compile") << message << "\n";
  return failure();
}

//===----------------------------------------------------------------------===//
// The entry and its signature
//===----------------------------------------------------------------------===//

namespace {
/// Where a result dimension comes from: a static size, or dimension `dim` of
/// input `input` (for dynamic shapes).
struct DimSource {
  int64_t size = ShapedType::kDynamic;
  int64_t input = -1, dim = -1;
  bool resolved() const { return size != ShapedType::kDynamic || input >= 0; }
};

/// An input that is the `lengths` of a tucker.flash: its size must be the
/// flash's batch B and its values lie in [0, Nk] (a source that is not
/// resolved is unknown to the caller).
struct LengthsBound {
  DimSource batch, keys;
};

struct TensorSpec {
  std::string dtype;
  SmallVector<int64_t> shape; // ShapedType::kDynamic for `?`
  SmallVector<DimSource> dims; // results only, once resolved
  SmallVector<LengthsBound> lengths; // inputs only: one per flash reading it
};

struct Signature {
  std::string entry;
  SmallVector<TensorSpec> inputs, outputs;
  bool stream = false; // a leading CUstream argument (--target=cuda)
  /// --target=cuda: bytes of the trailing workspace argument (0: none).
  std::optional<int64_t> workspaceBytes;
};
} // namespace

static std::optional<std::string> dtypeName(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isF64())
    return "f64";
  if (type.isSignlessInteger(8) || type.isSignlessInteger(16) ||
      type.isSignlessInteger(32) || type.isSignlessInteger(64))
    return "i" + std::to_string(type.getIntOrFloatBitWidth());
  return std::nullopt;
}

/// Checks that `type` can cross the C interface as an array and describes it.
static FailureOr<TensorSpec> describe(func::FuncOp entry, Type type,
                                      StringRef what, unsigned index) {
  auto shaped = dyn_cast<ShapedType>(type);
  bool ok = shaped && shaped.hasRank() &&
            (isa<RankedTensorType>(type) ||
             cast<MemRefType>(type).getLayout().isIdentity());
  std::optional<std::string> dtype =
      ok ? dtypeName(shaped.getElementType()) : std::nullopt;
  if (!dtype) {
    entry.emitError() << "entry @" << entry.getSymName() << ": " << what
                      << " #" << index << " has type " << type
                      << "; entry points take and return ranked tensors (or "
                         "identity-layout memrefs) of f32, f16, bf16, f64, "
                         "i8, i16, i32 or i64";
    return failure();
  }
  TensorSpec spec;
  spec.dtype = *dtype;
  spec.shape.assign(shaped.getShape().begin(), shaped.getShape().end());
  return spec;
}

/// The entry: --entry=NAME, else the only public func.func with a body.
static FailureOr<func::FuncOp> findEntry(ModuleOp module) {
  if (!entryName.empty()) {
    auto entry = module.lookupSymbol<func::FuncOp>(entryName);
    if (!entry) {
      SmallVector<std::string> names;
      for (auto f : module.getOps<func::FuncOp>())
        if (!f.isExternal())
          names.push_back("@" + f.getSymName().str());
      return fail("--entry=" + entryName +
                  ": the module has no func.func of that name (functions: " +
                  (names.empty() ? std::string("none")
                                 : llvm::join(names, ", ")) +
                  ")");
    }
    if (entry.isExternal())
      return fail("--entry=" + entryName +
                  ": @" + entryName + " is a declaration without a body");
    return entry;
  }
  SmallVector<func::FuncOp> candidates;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && f.isPublic())
      candidates.push_back(f);
  if (candidates.empty())
    return fail("no entry function: the module defines no public func.func "
                "with a body");
  if (candidates.size() > 1) {
    SmallVector<std::string> names;
    for (auto f : candidates)
      names.push_back("@" + f.getSymName().str());
    return fail("ambiguous entry function: the module defines " +
                llvm::join(names, ", ") + "; pick one with --entry=NAME");
  }
  return candidates.front();
}

/// Dimension `dim` of `value` as the caller knows it: its static size, or
/// the same dimension of the entry argument it is (through tensor.cast).
static DimSource dimSourceOf(func::FuncOp entry, Value value, unsigned dim) {
  while (true) {
    int64_t size = cast<ShapedType>(value.getType()).getDimSize(dim);
    if (!ShapedType::isDynamic(size))
      return DimSource{size};
    auto cast = value.getDefiningOp<tensor::CastOp>();
    if (!cast)
      break;
    value = cast.getSource();
  }
  auto arg = dyn_cast<BlockArgument>(value);
  if (arg && arg.getOwner() == &entry.getBody().front())
    return DimSource{ShapedType::kDynamic, arg.getArgNumber(), dim};
  return DimSource{};
}

/// The first resolved of `candidates` (an unresolved source when none is).
static DimSource firstKnown(func::FuncOp entry,
                            ArrayRef<std::pair<Value, unsigned>> candidates) {
  for (auto [value, dim] : candidates)
    if (DimSource src = dimSourceOf(entry, value, dim); src.resolved())
      return src;
  return DimSource{};
}

/// Marks the entry arguments that are the `lengths` of a tucker.flash or
/// tucker.flash_backward (so that callers can check them), with its B and Nk.
static void describeLengths(func::FuncOp entry, Signature &sig) {
  auto describe = [&](Value lengths, Value q, Value k, Value v, Value out) {
    while (lengths && lengths.getDefiningOp<tensor::CastOp>())
      lengths = lengths.getDefiningOp<tensor::CastOp>().getSource();
    auto arg = dyn_cast_or_null<BlockArgument>(lengths);
    if (!arg || arg.getOwner() != &entry.getBody().front())
      return;
    LengthsBound bound;
    bound.batch = firstKnown(entry, {{q, 0}, {k, 0}, {v, 0}, {out, 0}});
    bound.keys = firstKnown(entry, {{k, 2}, {v, 2}});
    sig.inputs[arg.getArgNumber()].lengths.push_back(bound);
  };
  entry.walk([&](Operation *op) {
    if (auto flash = dyn_cast<tucker::FlashOp>(op))
      describe(flash.getLengths(), flash.getQ(), flash.getK(), flash.getV(),
               flash.getResult());
    else if (auto backward = dyn_cast<tucker::FlashBackwardOp>(op))
      describe(backward.getLengths(), backward.getQ(), backward.getK(),
               backward.getV(), backward.getOut());
  });
}

static FailureOr<Signature> describeEntry(func::FuncOp entry) {
  Signature sig;
  sig.entry = entry.getSymName().str();
  FunctionType type = entry.getFunctionType();
  for (auto [i, t] : llvm::enumerate(type.getInputs())) {
    FailureOr<TensorSpec> spec = describe(entry, t, "argument", i);
    if (failed(spec))
      return failure();
    sig.inputs.push_back(*spec);
  }
  for (auto [i, t] : llvm::enumerate(type.getResults())) {
    FailureOr<TensorSpec> spec = describe(entry, t, "result", i);
    if (failed(spec))
      return failure();
    for (int64_t size : spec->shape)
      spec->dims.push_back(DimSource{size});
    sig.outputs.push_back(*spec);
  }
  describeLengths(entry, sig);
  return sig;
}

/// Expresses every dynamic result dimension of the entry by an input
/// dimension: on a copy of the module, the entry also returns
/// `tensor.dim %result, i`; the tensor stage of the pipeline, shape
/// reification and canonicalization then fold each such dim to a constant or
/// to `tensor.dim %argN, j`. Anything else cannot be allocated by a caller
/// that only knows the inputs, and is an error.
static LogicalResult resolveDynamicResultDims(
    ModuleOp module, StringRef entryName, Signature &sig,
    const tucker::TuckerCpuPipelineOptions &options) {
  bool anyDynamic = llvm::any_of(sig.outputs, [](const TensorSpec &s) {
    return llvm::is_contained(s.shape, ShapedType::kDynamic);
  });
  if (!anyDynamic)
    return success();

  OwningOpRef<ModuleOp> copy(module.clone());
  auto entry = copy->lookupSymbol<func::FuncOp>(entryName);
  auto ret = cast<func::ReturnOp>(entry.getBody().back().getTerminator());
  OpBuilder b(ret);
  SmallVector<Value> operands(ret.getOperands());
  SmallVector<std::pair<unsigned, unsigned>> asked; // (result, dim)
  for (auto [r, value] : llvm::enumerate(ret.getOperands())) {
    auto shaped = cast<ShapedType>(value.getType());
    for (unsigned d = 0; d < shaped.getRank(); ++d) {
      if (!shaped.isDynamicDim(d))
        continue;
      Value dim = isa<RankedTensorType>(shaped)
                      ? Value(tensor::DimOp::create(b, ret.getLoc(), value, d))
                      : Value(memref::DimOp::create(b, ret.getLoc(), value, d));
      operands.push_back(dim);
      asked.push_back({unsigned(r), d});
    }
  }
  func::ReturnOp::create(b, ret.getLoc(), operands);
  ret.erase();
  entry.setFunctionType(FunctionType::get(
      copy->getContext(), entry.getArgumentTypes(),
      TypeRange(ValueRange(operands))));

  PassManager pm(copy->getContext());
  tucker::buildTuckerToLinalgPipeline(pm, options);
  pm.addPass(memref::createResolveRankedShapeTypeResultDimsPass());
  // A lowered tucker.flash returns an scf.for result whose init has the
  // input's sizes: the loop canonicalization folds its dims to them.
  pm.addNestedPass<func::FuncOp>(createSCFForLoopCanonicalizationPass());
  pm.addPass(memref::createResolveRankedShapeTypeResultDimsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*copy)))
    return fail("could not analyze the dynamic result shapes of @" +
                entryName);

  entry = copy->lookupSymbol<func::FuncOp>(entryName);
  ret = cast<func::ReturnOp>(entry.getBody().back().getTerminator());
  unsigned first = sig.outputs.size();
  for (auto [k, rd] : llvm::enumerate(asked)) {
    Value v = ret.getOperand(first + k);
    DimSource &src = sig.outputs[rd.first].dims[rd.second];
    APInt cst;
    if (matchPattern(v, m_ConstantInt(&cst))) {
      src.size = cst.getSExtValue();
      continue;
    }
    Value source;
    std::optional<int64_t> index;
    if (auto dim = v.getDefiningOp<tensor::DimOp>()) {
      source = dim.getSource();
      index = dim.getConstantIndex();
    } else if (auto dim = v.getDefiningOp<memref::DimOp>()) {
      source = dim.getSource();
      index = dim.getConstantIndex();
    }
    auto arg = dyn_cast_or_null<BlockArgument>(source);
    if (arg && index && arg.getOwner() == &entry.getBody().front()) {
      src.input = arg.getArgNumber();
      src.dim = *index;
      continue;
    }
    return fail("result #" + llvm::Twine(rd.first) + " of @" + entryName +
                " has a dynamic dimension #" + llvm::Twine(rd.second) +
                " that is not the size of an input dimension, so a caller "
                "cannot allocate it; give that dimension a static size");
  }
  return success();
}

static void writeSignatureJson(llvm::raw_ostream &os, const Signature &sig,
                               StringRef target) {
  llvm::json::OStream j(os);
  auto shape = [&](ArrayRef<int64_t> dims) {
    j.attributeArray("shape", [&] {
      for (int64_t d : dims)
        ShapedType::isDynamic(d) ? j.value(nullptr) : j.value(d);
    });
  };
  // A size, {"input": i, "dim": j}, or null when the caller cannot know it.
  auto dimSource = [&](const DimSource &d) {
    if (d.size != ShapedType::kDynamic)
      j.value(d.size);
    else if (d.input < 0)
      j.value(nullptr);
    else
      j.object([&] {
        j.attribute("input", d.input);
        j.attribute("dim", d.dim);
      });
  };
  j.object([&] {
    j.attribute("version", 2);
    j.attribute("target", target);
    j.attribute("entry", sig.entry);
    j.attribute("symbol", "_mlir_ciface_" + sig.entry);
    j.attribute("returns", "const char *: NULL, or why the shapes of the "
                           "call were refused (nothing ran)");
    if (sig.stream)
      j.attribute("stream", "first argument: the CUstream the call enqueues "
                            "on; it returns without synchronizing");
    if (sig.workspaceBytes)
      j.attribute("workspace_bytes", *sig.workspaceBytes);
    j.attributeArray("inputs", [&] {
      for (const TensorSpec &t : sig.inputs)
        j.object([&] {
          j.attribute("dtype", t.dtype);
          shape(t.shape);
          if (t.lengths.empty())
            return;
          j.attributeArray("lengths", [&] {
            for (const LengthsBound &bound : t.lengths)
              j.object([&] {
                j.attributeBegin("batch");
                dimSource(bound.batch);
                j.attributeEnd();
                j.attributeBegin("keys");
                dimSource(bound.keys);
                j.attributeEnd();
              });
          });
        });
    });
    j.attributeArray("outputs", [&] {
      for (const TensorSpec &t : sig.outputs)
        j.object([&] {
          j.attribute("dtype", t.dtype);
          shape(t.shape);
          j.attributeArray("dims", [&] {
            for (const DimSource &d : t.dims)
              dimSource(d);
          });
        });
    });
  });
  os << "\n";
}

//===----------------------------------------------------------------------===//
// The CPU backend
//===----------------------------------------------------------------------===//

static bool containsTuckerOps(ModuleOp module) {
  bool found = false;
  module.walk([&](Operation *op) {
    if (isa<tucker::TuckerDialect>(op->getDialect())) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

static std::unique_ptr<llvm::TargetMachine> createHostTargetMachine() {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    (void)fail("no LLVM target for " + triple.str() + ": " + error);
    return nullptr;
  }
  std::string cpu = cpuName;
  llvm::SubtargetFeatures features;
  if (cpu == "host") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.first(), feature.second);
  }
  // An unknown CPU would only be warned about, and then fail in the backend
  // with an LLVM ERROR (e.g. "64-bit code requested on a subtarget that
  // doesn't support it"): refuse it here.
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, "", ""));
  if (subtarget && !subtarget->isCPUStringValid(cpu)) {
    (void)fail("--mcpu=" + cpu + ": not a CPU of " + triple.str() +
               " (--mcpu=host picks this machine's)");
    return nullptr;
  }
  llvm::CodeGenOptLevel level = optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
                                : optLevel == 0 ? llvm::CodeGenOptLevel::None
                                                : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features.getString(), llvm::TargetOptions(),
      llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm)
    (void)fail("could not create an LLVM target machine for " + triple.str() +
               " (cpu " + cpu + ")");
  return tm;
}

/// Runs `argv` and returns its exit code with stdout and stderr merged into
/// `output`; -1 when it could not start.
static int runProgram(ArrayRef<std::string> argv, std::string &output) {
  SmallString<128> log;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("tucker-compile-link", "log", fd,
                                         log)) {
    output = "could not create a temporary file";
    return -1;
  }
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  llvm::FileRemover removeLog(log);
  SmallVector<StringRef> args(argv.begin(), argv.end());
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(log),
                                          StringRef(log)};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(args.front(), args, std::nullopt,
                                     redirects, 0, 0, &error);
  if (auto buffer = llvm::MemoryBuffer::getFile(log))
    output = (*buffer)->getBuffer().str();
  if (!error.empty())
    output += error;
  return rc;
}

static LogicalResult linkSharedLibrary(StringRef object, StringRef output,
                                       ArrayRef<std::string> libraryArgs) {
  std::string cc = ccName;
  if (cc.empty())
    if (std::optional<std::string> env = llvm::sys::Process::GetEnv("CC"))
      cc = *env;
  if (cc.empty())
    cc = "cc";
  std::string program = cc;
  if (!llvm::sys::path::has_parent_path(cc)) {
    llvm::ErrorOr<std::string> found = llvm::sys::findProgramByName(cc);
    if (!found)
      return fail("cannot link: the C compiler '" + cc +
                  "' is not on PATH (set --cc=PROGRAM or $CC)");
    program = *found;
  }
  // Every symbol must resolve in the given libraries or libc/libm, so an
  // unresolved reference fails here, not at dlopen.
  SmallVector<std::string> argv = {program,      "-shared", "-o",
                                   output.str(), object.str(),
                                   "-Wl,--no-undefined"};
  argv.append(libraryArgs.begin(), libraryArgs.end());
  argv.push_back("-lm");
  std::string log;
  int rc = runProgram(argv, log);
  if (rc != 0)
    return fail("linking the shared library failed (exit code " +
                llvm::Twine(rc) + "):\n  " + llvm::join(argv, " ") + "\n" +
                log);
  return success();
}

/// Writes the lowered module as --emit asks: MLIR, LLVM IR, an object, or
/// (the default) a shared library linked with `libraryArgs`.
static LogicalResult emitLibrary(ModuleOp module, const Signature &sig,
                                 ArrayRef<std::string> libraryArgs) {
  if (emitKind == EmitKind::MLIR) {
    std::string error;
    auto out = openOutputFile(outputFilename, &error);
    if (!out)
      return fail(error);
    module.print(out->os());
    out->keep();
    return success();
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, sig.entry);
  if (!llvmModule)
    return fail("translating the LLVM dialect to LLVM IR failed");

  // Export exactly the C interface. Every other function becomes internal
  // and gets a prefix, so that an entry named like a C library function
  // (@fma, @exp) neither interposes libc/libm for the whole process nor
  // captures the calls LLVM emits for its intrinsics.
  std::string cInterface = "_mlir_ciface_" + sig.entry;
  if (!llvmModule->getFunction(cInterface))
    return fail("the lowered module lacks the C interface @" + cInterface);
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration() || f.getName() == cInterface)
      continue;
    f.setName("__tucker_" + f.getName());
    f.setLinkage(llvm::GlobalValue::InternalLinkage);
  }

  std::unique_ptr<llvm::TargetMachine> tm = createHostTargetMachine();
  if (!tm)
    return failure();
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  if (llvm::Error err = makeOptimizingTransformer(optLevel, /*sizeLevel=*/0,
                                                  tm.get())(llvmModule.get()))
    return fail("optimizing the LLVM IR failed: " +
                llvm::toString(std::move(err)));

  if (emitKind == EmitKind::LLVMIR) {
    std::string error;
    auto out = openOutputFile(outputFilename, &error);
    if (!out)
      return fail(error);
    llvmModule->print(out->os(), nullptr);
    out->keep();
    return success();
  }

  // The object goes to -o for --emit=obj, else to a temporary file.
  SmallString<128> objectPath;
  std::optional<llvm::FileRemover> removeObject;
  if (emitKind == EmitKind::Object) {
    objectPath = outputFilename;
  } else {
    int fd;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "tucker-compile", "o", fd, objectPath))
      return fail("cannot create a temporary object file: " + ec.message());
    llvm::sys::Process::SafelyCloseFileDescriptor(fd);
    removeObject.emplace(objectPath);
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return fail("cannot write '" + objectPath + "': " + ec.message());
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return fail("the LLVM target cannot emit object files");
    codegen.run(*llvmModule);
    os.flush();
    if (os.has_error())
      return fail("cannot write '" + objectPath + "': " +
                  os.error().message());
  }
  if (emitKind == EmitKind::Object)
    return success();
  return linkSharedLibrary(objectPath, outputFilename, libraryArgs);
}

/// Puts the shape checks in front of the lowered C interface (EntryChecks.h):
/// it returns NULL, or why it refused the call.
static LogicalResult checkInterface(ModuleOp module, const Signature &sig,
                                    ArrayRef<tucker::DimCheck> checks,
                                    unsigned leadingArgs) {
  SmallVector<unsigned> inputRanks, outputRanks;
  for (const TensorSpec &t : sig.inputs)
    inputRanks.push_back(t.shape.size());
  for (const TensorSpec &t : sig.outputs)
    outputRanks.push_back(t.shape.size());
  if (failed(tucker::emitCheckedInterface(module, sig.entry, checks, inputRanks,
                                          outputRanks, leadingArgs)))
    return fail("the lowered module lacks the C interface @_mlir_ciface_" +
                sig.entry);
  return success();
}

/// Exports `entry` with a C interface and read-only tensor arguments
/// (callers keep their inputs: the kernel never writes into an argument);
/// returns a copy of the module before compilation when a signature is to be
/// written (its dynamic result dims are resolved on that copy).
static OwningOpRef<ModuleOp> prepareEntry(ModuleOp module, func::FuncOp entry) {
  entry->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                 UnitAttr::get(module.getContext()));
  entry.setPublic();
  for (unsigned i = 0; i < entry.getNumArguments(); ++i)
    if (isa<TensorType>(entry.getArgument(i).getType()))
      entry.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                       BoolAttr::get(module.getContext(), false));
  OwningOpRef<ModuleOp> original;
  if (!signatureFilename.empty())
    original = module.clone();
  return original;
}

static LogicalResult compileForCpu(ModuleOp module, func::FuncOp entry,
                                   Signature &sig) {
  auto options =
      tucker::TuckerCpuPipelineOptions::createFromString(pipelineOptions);
  if (!options)
    return fail("invalid --pipeline-options='" + pipelineOptions +
                "' for --tucker-cpu-pipeline");
  // Without tucker ops the tucker stage has nothing to do: skip it unless
  // asked for explicitly.
  if (!options->tuckerStage.hasValue() && !containsTuckerOps(module))
    options->tuckerStage = false;

  // The C interface of the entry (_mlir_ciface_<name>, memref descriptors
  // by pointer); it must stay visible.
  OwningOpRef<ModuleOp> original = prepareEntry(module, entry);
  SmallVector<tucker::DimCheck> checks = tucker::collectDimChecks(entry);

  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return fail("invalid pass manager options");
  tucker::buildTuckerCpuPipeline(pm, *options);
  if (failed(pm.run(module)))
    return fail("the CPU pipeline (--tucker-cpu-pipeline) failed on '" +
                inputFilename + "'");
  if (failed(checkInterface(module, sig, checks, /*leadingArgs=*/0)))
    return failure();

  if (original &&
      failed(resolveDynamicResultDims(*original, sig.entry, sig, *options)))
    return failure();

  // The MLIR runtime (memrefCopy for strided copies, print helpers) is
  // linked only if the object needs it.
  SmallVector<std::string> libraryArgs;
  if (StringRef runtimeDir = TUCKER_MLIR_RUNTIME_DIR; !runtimeDir.empty())
    libraryArgs = {("-L" + runtimeDir).str(), ("-Wl,-rpath," + runtimeDir).str(),
                   "-Wl,--as-needed", "-lmlir_c_runner_utils",
                   "-Wl,--no-as-needed"};
  return emitLibrary(module, sig, libraryArgs);
}

//===----------------------------------------------------------------------===//
// The CUDA backend
//===----------------------------------------------------------------------===//

static cl::opt<std::string> cudaRuntimeDir(
    "cuda-runtime-dir",
    cl::desc("--target=cuda: directory of libTuckerCudaRuntime.so (default: "
             "the build tree's lib/Runtime, else lib/, next to this tool)"),
    cl::value_desc("dir"), cl::cat(toolCategory));

/// The directory holding libTuckerCudaRuntime.so: --cuda-runtime-dir, else
/// <tool>/../lib/Runtime (build tree), else <tool>/../lib (install).
static std::optional<std::string> findCudaRuntimeDir() {
  if (!cudaRuntimeDir.empty())
    return cudaRuntimeDir.getValue();
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable("tucker-compile", &anchor);
  SmallString<256> root(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(exe)));
  for (StringRef sub : {"lib/Runtime", "lib"}) {
    SmallString<256> dir(root);
    llvm::sys::path::append(dir, sub);
    SmallString<256> lib(dir);
    llvm::sys::path::append(lib, "libTuckerCudaRuntime.so");
    if (llvm::sys::fs::exists(lib))
      return std::string(dir);
  }
  return std::nullopt;
}

/// Gives `entry` a leading `!llvm.ptr` argument, the caller's CUDA stream,
/// and opens its body with tuckerStreamBegin(stream)
/// (lib/Runtime/MgpuShim.cpp): the launches inside go to that stream and
/// the entry returns without synchronizing. closeStreamBracket ends it after
/// the pipeline.
static void addStreamArgument(ModuleOp module, func::FuncOp entry) {
  MLIRContext *ctx = module.getContext();
  ctx->getOrLoadDialect<LLVM::LLVMDialect>();
  OpBuilder b(ctx);
  Location loc = entry.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto declare = [&](StringRef name, TypeRange args) {
    b.setInsertionPointToStart(module.getBody());
    auto f = func::FuncOp::create(b, loc, name, b.getFunctionType(args, {}));
    f.setPrivate();
    return f;
  };
  func::FuncOp begin = declare("tuckerStreamBegin", {ptr});
  (void)entry.insertArgument(0, ptr, DictionaryAttr(), loc);
  Block &body = entry.getBody().front();
  b.setInsertionPointToStart(&body);
  func::CallOp::create(b, loc, begin, ValueRange{entry.getArgument(0)});
}

/// Calls tuckerStreamEnd() before every return of the lowered entry: after
/// the frees that buffer deallocation put last, which must still go to the
/// caller's stream (a CUDA graph capture forbids the legacy stream).
static LogicalResult closeStreamBracket(ModuleOp module, StringRef entry) {
  auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(entry);
  if (!func)
    return fail("the GPU pipeline left no llvm.func @" + entry.str());
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  auto end = module.lookupSymbol<LLVM::LLVMFuncOp>("tuckerStreamEnd");
  if (!end) {
    b.setInsertionPointToStart(module.getBody());
    end = LLVM::LLVMFuncOp::create(
        b, func.getLoc(), "tuckerStreamEnd",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}));
  }
  func.walk([&](LLVM::ReturnOp ret) {
    b.setInsertionPoint(ret);
    LLVM::CallOp::create(b, ret.getLoc(), end, ValueRange{});
  });
  return success();
}

/// --target=cuda: --tucker-gpu-pipeline in-process (the kernels into a
/// gpu.binary embedded in the host code), the host code to an object, linked
/// against libTuckerCudaRuntime (the mgpu* functions, over the dlopen'd
/// driver). The exported `_mlir_ciface_<entry>` takes the caller's CUDA
/// stream, then memref descriptors of DEVICE pointers (inputs, then the
/// caller-allocated outputs); it enqueues its kernels on that stream and
/// returns without synchronizing (README.md, "--target=cuda").
static LogicalResult compileForCuda(ModuleOp module, func::FuncOp entry,
                                    Signature &sig) {
  auto options =
      tucker::TuckerGpuPipelineOptions::createFromString(pipelineOptions);
  if (!options)
    return fail("invalid --pipeline-options='" + pipelineOptions +
                "' for --tucker-gpu-pipeline");
  OwningOpRef<ModuleOp> original = prepareEntry(module, entry);
  SmallVector<tucker::DimCheck> checks = tucker::collectDimChecks(entry);
  addStreamArgument(module, entry);
  sig.stream = true;

  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return fail("invalid pass manager options");
  tucker::buildTuckerGpuPipeline(pm, *options);
  if (failed(pm.run(module)))
    return fail("the GPU pipeline (--tucker-gpu-pipeline) failed on '" +
                inputFilename + "'");
  if (failed(closeStreamBracket(module, sig.entry)))
    return failure();
  if (failed(checkInterface(module, sig, checks, /*leadingArgs=*/1)))
    return failure();
  // The device buffers' workspace, a trailing argument when there is one
  // (--tucker-gpu-device-buffers records its size on the entry).
  sig.workspaceBytes = 0;
  if (auto lowered = module.lookupSymbol<LLVM::LLVMFuncOp>(sig.entry))
    if (auto bytes =
            lowered->getAttrOfType<IntegerAttr>("tucker.workspace_bytes"))
      sig.workspaceBytes = bytes.getInt();
  if (original &&
      failed(resolveDynamicResultDims(*original, sig.entry, sig,
                                      tucker::TuckerCpuPipelineOptions())))
    return failure();

  std::optional<std::string> runtimeDir = findCudaRuntimeDir();
  if (!runtimeDir)
    return fail("cannot link: libTuckerCudaRuntime.so not found next to "
                "tucker-compile (../lib/Runtime or ../lib); pass "
                "--cuda-runtime-dir=DIR");
  // The runtime is found through the rpath: $ORIGIN first (ship the two
  // libraries side by side), then the directory it was linked from.
  return emitLibrary(module, sig,
                     {"-L" + *runtimeDir, "-Wl,-rpath,$ORIGIN:" + *runtimeDir,
                      "-lTuckerCudaRuntime"});
}

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

namespace {
struct TargetBackend {
  StringRef name;
  /// Null while the target is announced but not yet available.
  LogicalResult (*compile)(ModuleOp, func::FuncOp, Signature &);
  StringRef unavailable;
};
} // namespace

static const TargetBackend targets[] = {
    {"cpu", compileForCpu, ""},
    {"cuda", compileForCuda, ""},
};

static FailureOr<const TargetBackend *> lookupBackend(StringRef name) {
  for (const TargetBackend &t : targets) {
    if (t.name != name)
      continue;
    if (!t.compile)
      return fail(t.unavailable);
    return &t;
  }
  SmallVector<StringRef> names;
  for (const TargetBackend &t : targets)
    names.push_back(t.name);
  return fail("unknown --target='" + name + "' (targets: " +
              llvm::join(names, ", ") + ")");
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

static LogicalResult run(MLIRContext &context) {
  if (inputFilename.empty())
    return fail("no input file (usage: tucker-compile in.mlir -o "
                "libkernel.so)");
  if (outputFilename.empty())
    return fail("no output file: pass -o FILE");
  if (optLevel > 3)
    return fail("-O" + llvm::Twine(optLevel.getValue()) +
                ": the optimization level is 0, 1, 2 or 3");
  StringRef outputDir = llvm::sys::path::parent_path(outputFilename.getValue());
  if (outputFilename != "-" && !outputDir.empty() &&
      !llvm::sys::fs::is_directory(outputDir))
    return fail(llvm::Twine("cannot write -o ") + outputFilename.getValue() +
                ": no directory '" + outputDir + "'");
  FailureOr<const TargetBackend *> backend = lookupBackend(targetName);
  if (failed(backend))
    return failure();

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(inputFilename, &error);
  if (!input)
    return fail("cannot read input: " + error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    return fail("cannot parse or verify '" + inputFilename + "'");

  FailureOr<func::FuncOp> entry = findEntry(*module);
  if (failed(entry))
    return failure();
  FailureOr<Signature> sig = describeEntry(*entry);
  if (failed(sig))
    return failure();

  // Opened before compiling, so that a bad path fails at once; the file
  // is removed again unless the compilation succeeds.
  std::unique_ptr<llvm::ToolOutputFile> signatureFile;
  if (!signatureFilename.empty()) {
    std::string error;
    signatureFile = openOutputFile(signatureFilename, &error);
    if (!signatureFile)
      return fail(error);
  }

  if (failed((*backend)->compile(*module, *entry, *sig)))
    return failure();

  if (signatureFile) {
    writeSignatureJson(signatureFile->os(), *sig, (*backend)->name);
    signatureFile->keep();
  }
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions({&toolCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tucker-compile: compile a tucker (or linalg) module ahead of time to "
      "a shared library\n\n"
      "  tucker-compile in.mlir -o libkernel.so [--target=cpu] "
      "[--entry=NAME]\n"
      "                 [--pipeline-options='...'] [--signature=FILE]\n");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<tucker::TuckerDialect>();
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  // --target=cuda: gpu.binary / gpu.launch_func and NVVM to LLVM IR.
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  MLIRContext context(registry);
  // A pass that fails on the module would attach the whole module to its
  // error; keep diagnostics to the point unless asked for.
  cl::Option *printOp =
      cl::getRegisteredOptions().lookup("mlir-print-op-on-diagnostic");
  if (!printOp || !printOp->getNumOccurrences())
    context.printOpOnDiagnostic(false);

  return succeeded(run(context)) ? 0 : 1;
}

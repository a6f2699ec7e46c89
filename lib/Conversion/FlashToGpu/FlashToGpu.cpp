//===- FlashToGpu.cpp - tucker.flash to Hopper kernels and launches -------===//
//
// --tucker-flash-to-gpu: every tucker.flash of the module becomes a call of a
// host launcher that runs a generated sm_90a flash-attention kernel
// (FlashKernel.cpp) on the op's buffers (FlashHost.cpp). Kernels live in one
// gpu.module, `@tucker_flash_kernels`, and are shared by every op with the
// same FlashKernelSpec (element type, head widths, GQA group, causal,
// scale): batch, sequence length and head count are run-time values.
//
// What the kernels take, and the diagnostics for the rest:
//   element type bf16 or f16; Dqk, Dv multiples of 16 up to 576 / 512;
//   Hq % Hkv == 0; any Nq, Nk >= 1; v separate or a last-dim slice of k;
//   rope on the fly; per-sequence key counts (lengths); chip sm_90a.
// Decode shapes (few queries) take the split-KV kernel and its combine
// kernel (FlashDecodeKernel.cpp). A tucker.flash_backward becomes a call of
// a launcher of its prep, main and finish kernels (FlashBackwardHost.cpp).
//
//===----------------------------------------------------------------------===//

#include "FlashToGpu.h"
#include "FlashBackwardAux.h"
#include "FlashBackwardKernel.h"
#include "KernelEmitter.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/SymbolTable.h"
#include "tucker/Conversion/ColumnSlice.h"
#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include <cmath>
#include <map>

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERFLASHTOGPUPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

namespace {

/// A kernel's `tucker.launch` dictionary: `fields`, then what every flash
/// kernel's spec fixes (element type, widths, group, causal, lengths,
/// scale).
static DictionaryAttr launchDictionary(OpBuilder &builder,
                                       SmallVector<NamedAttribute> fields,
                                       const FlashKernelSpec &spec) {
  fields.append({
      builder.getNamedAttr("element",
                           builder.getStringAttr(spec.elementName())),
      builder.getNamedAttr("qk_dim", builder.getI64IntegerAttr(spec.qkDim)),
      builder.getNamedAttr("v_dim", builder.getI64IntegerAttr(spec.valueDim)),
      builder.getNamedAttr("group", builder.getI64IntegerAttr(spec.groupSize)),
      builder.getNamedAttr("causal", builder.getBoolAttr(spec.causal)),
      builder.getNamedAttr("lengths", builder.getBoolAttr(spec.lengths)),
      builder.getNamedAttr("scale_log2e",
                           builder.getF32FloatAttr(spec.scaleLog2e)),
  });
  return builder.getDictionaryAttr(fields);
}

/// `v` and `k` before the tensor.expand_shape that both went through, when
/// it is the same and leaves the last dim alone (a latent [B, N, D] given
/// its kv head: [B, 1, N, D]); else `v` and `k`.
static std::pair<Value, Value> beforeCommonExpand(Value v, Value k) {
  auto ve = v.getDefiningOp<tensor::ExpandShapeOp>();
  auto ke = k.getDefiningOp<tensor::ExpandShapeOp>();
  if (!ve || !ke ||
      ve.getReassociationIndices() != ke.getReassociationIndices() ||
      ke.getReassociationIndices().back().size() != 1)
    return {v, k};
  return {ve.getSrc(), ke.getSrc()};
}

/// The ops that made V out of K (a column slice, and the expand_shape after
/// it), taken before the op that reads them is replaced.
struct ValueFromKeyOps {
  Operation *expand = nullptr, *slice = nullptr;

  ValueFromKeyOps(Value v, Value k) {
    expand = v.getDefiningOp<tensor::ExpandShapeOp>();
    slice =
        beforeCommonExpand(v, k).first.getDefiningOp<tensor::ExtractSliceOp>();
  }

  /// Once the kernels read V from K: the slice, the expand_shape and the
  /// tensor.dim ops that sized the slice, where nothing else uses them.
  void eraseDead(RewriterBase &rewriter) {
    if (expand && expand->use_empty())
      rewriter.eraseOp(expand);
    if (!slice || !slice->use_empty())
      return;
    SmallVector<Value> sizes(slice->getOperands());
    rewriter.eraseOp(slice);
    for (Value size : sizes)
      if (auto dim = size.getDefiningOp<tensor::DimOp>())
        if (dim->use_empty())
          rewriter.eraseOp(dim);
  }
};

} // namespace

std::optional<int64_t> mlir::tucker::flash_to_gpu::valueColumnInKey(Value v,
                                                                    Value k) {
  if (v == k)
    return 0;
  std::tie(v, k) = beforeCommonExpand(v, k);
  auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != k)
    return std::nullopt;
  return columnSliceOffset(slice);
}

FailureOr<FlashKernelSpec>
mlir::tucker::flash_to_gpu::specOf(FlashOp op, FlashScheduleAttr schedule) {
  auto fail = [&]() {
    return op.emitOpError() << "cannot run on the Hopper kernels: ";
  };
  auto qType = op.getQ().getType();
  auto kType = op.getK().getType();
  Type element = qType.getElementType();
  FlashKernelSpec spec;
  if (element.isBF16()) {
    spec.element = FlashElement::BF16;
  } else if (element.isF16()) {
    spec.element = FlashElement::F16;
  } else {
    fail() << "element type " << element
           << " is not supported (the kernels take bf16 or f16)";
    return failure();
  }
  if (kType.getDimSize(2) == 0) {
    fail() << "Nk = 0: there is no key to attend to";
    return failure();
  }
  setCommonSpec(spec, op);
  spec.decode = schedule.getDecode();
  if (!spec.wide() && !spec.decode) {
    spec.keysPerTile = schedule.getKeysPerTile();
    spec.consumerGroups = schedule.getConsumers();
  }
  spec.headsPerTile = schedule.getHeadsPerTile();
  if (RopeAttr rope = op.getRopeAttr()) {
    // V read out of the K tile must not see the rotation.
    if (spec.valueFromKey && spec.valueColumn < rope.getEnd() &&
        rope.getOffset() < spec.valueColumn + spec.valueDim) {
      fail() << "v is columns [" << spec.valueColumn << ", "
             << spec.valueColumn + spec.valueDim
             << ") of k, which overlap the rotated columns ["
             << rope.getOffset() << ", " << rope.getEnd()
             << "); pass v as its own tensor";
      return failure();
    }
  }
  spec.outputTransposed = static_cast<bool>(resultTranspose(op));
  spec.pingPong = schedule.getPingPong();
  spec.lse = static_cast<bool>(op.getLse());
  std::string reason = unsupportedReason(spec);
  if (!reason.empty()) {
    fail() << reason;
    return failure();
  }
  return spec;
}

namespace {

struct TuckerFlashToGpuPass
    : tucker::impl::TuckerFlashToGpuPassBase<TuckerFlashToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    struct Work {
      FlashOp op;
      FlashKernelSpec spec;
      FlashScheduleAttr schedule;
    };
    SmallVector<Work> work;
    bool ok = true;
    module.walk([&](FlashOp op) {
      FlashScheduleAttr schedule = op.getScheduleAttr();
      if (!schedule) {
        op.emitOpError() << "has no #tucker.flash_schedule: run "
                            "--tucker-gpu-configure first (it chooses one "
                            "from the shapes)";
        ok = false;
        return;
      }
      FailureOr<FlashKernelSpec> spec = specOf(op, schedule);
      if (failed(spec))
        ok = false;
      else
        work.push_back({op, *spec, schedule});
    });
    struct BackwardWork {
      FlashBackwardOp op;
      FlashKernelSpec spec;
    };
    SmallVector<BackwardWork> backwardWork;
    module.walk([&](FlashBackwardOp op) {
      FlashBackwardScheduleAttr schedule = op.getScheduleAttr();
      if (!schedule) {
        op.emitOpError() << "has no #tucker.flash_backward_schedule: run "
                            "--tucker-gpu-configure first";
        ok = false;
        return;
      }
      FailureOr<FlashKernelSpec> spec = backwardSpecOf(op, schedule);
      if (failed(spec))
        ok = false;
      else
        backwardWork.push_back({op, *spec});
    });
    if (!ok)
      return signalPassFailure();
    if (work.empty() && backwardWork.empty())
      return;

    MLIRContext *ctx = module.getContext();
    OpBuilder builder(ctx);
    Location loc = module.getLoc();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    builder.getUnitAttr());
    SymbolTable symbols(module);
    builder.setInsertionPointToEnd(module.getBody());
    auto kernels =
        gpu::GPUModuleOp::create(builder, loc, "tucker_flash_kernels");
    symbols.insert(kernels); // renames on a clash
    {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(kernels.getBody());
      KernelEmitter::declareSharedMemory(builder, loc, kSharedMemorySymbol);
    }
    SymbolTable kernelSymbols(kernels);

    std::map<FlashKernelSpec, gpu::GPUFuncOp> kernelOf, combineOf, ropeOf;
    llvm::DenseMap<std::tuple<Operation *, Operation *, Type, Attribute>,
                   func::FuncOp>
        launcherOf;
    IRRewriter rewriter(ctx);
    for (auto &[op, opSpec, schedule] : work) {
      LaunchOptions launchOptions{schedule.getKvSplits(), schedule.getSmCount(),
                                  schedule.getDependentLaunch()};
      // Prefill with rope: q and k rotated ahead by a kernel of their own,
      // the flash kernel is the one without rope.
      bool rotate = schedule.getRopeKernel() && opSpec.rope() && !opSpec.decode;
      gpu::GPUFuncOp rope;
      if (rotate) {
        gpu::GPUFuncOp &built = ropeOf[opSpec];
        if (!built) {
          built = buildFlashRopeKernel(builder, op.getLoc(), kernels, opSpec,
                                       opSpec.baseName() + "_rotate");
          kernelSymbols.insert(built);
        }
        rope = built;
      }
      const FlashKernelSpec spec = rotate ? opSpec.withoutRope() : opSpec;
      gpu::GPUFuncOp &kernel = kernelOf[spec];
      gpu::GPUFuncOp &combine = combineOf[spec];
      if (!kernel) {
        std::string name = spec.baseName();
        if (spec.wide())
          kernel = buildFlashWideKernel(builder, op.getLoc(), kernels, spec,
                                        name);
        else if (spec.decode)
          kernel = buildFlashDecodeKernel(builder, op.getLoc(), kernels, spec,
                                          name);
        else
          kernel = buildFlashKernel(builder, op.getLoc(), kernels, spec, name);
        kernelSymbols.insert(kernel); // a second scale gets a suffix
        if (spec.decode) {
          combine = buildFlashCombineKernel(
              builder, op.getLoc(), kernels, spec,
              (kernel.getName() + "_combine").str());
          kernelSymbols.insert(combine);
        }
        FlashTiling tiling(spec);
        // What a caller that builds its own tensor maps needs (the bench
        // harness reads it): launch geometry and the TMA boxes.
        kernel->setAttr(
            TuckerDialect::LaunchAttrHelper::getNameStr(),
            launchDictionary(
                builder,
                {
                    builder.getNamedAttr(
                        "block_m", builder.getI64IntegerAttr(tiling.blockM)),
                    builder.getNamedAttr(
                        "heads_per_tile",
                        builder.getI64IntegerAttr(spec.headsPerTile)),
                    builder.getNamedAttr(
                        "value_from_key",
                        builder.getBoolAttr(spec.valueFromKey)),
                    builder.getNamedAttr(
                        "block_n", builder.getI64IntegerAttr(tiling.blockN)),
                    builder.getNamedAttr(
                        "threads", builder.getI64IntegerAttr(spec.threads())),
                    builder.getNamedAttr(
                        "shared_bytes",
                        builder.getI64IntegerAttr(tiling.request)),
                    builder.getNamedAttr(
                        "stages", builder.getI64IntegerAttr(tiling.stages)),
                    builder.getNamedAttr("decode",
                                         builder.getBoolAttr(spec.decode)),
                    builder.getNamedAttr(
                        "output_transposed",
                        builder.getBoolAttr(spec.outputTransposed)),
                },
                spec));
      }
      // One launcher per kernel, rope kernel and operand types (those of the
      // buffers: a view read in place is a type of its own).
      SmallVector<Type> operandTypes(op->getOperandTypes());
      for (unsigned i = 0; i < 3; ++i) // q, k, v
        operandTypes[i] = operandBufferType(op->getOperand(i));
      // The launch properties of the schedule (splits, dependent launch)
      // are the launcher's.
      auto key = std::make_tuple(
          kernel.getOperation(), rope ? rope.getOperation() : nullptr,
          Type(builder.getFunctionType(operandTypes, op->getResultTypes())),
          Attribute(schedule));
      func::FuncOp &launcher = launcherOf[key];
      if (!launcher) {
        StringRef named = rope ? rope.getName() : kernel.getName();
        launcher = buildLauncher(builder, op.getLoc(), module, kernel, combine,
                                 rope, spec, launchOptions, op,
                                 ("tucker_flash_launch_" + named).str());
        symbols.insert(launcher);
      }
      ValueFromKeyOps valueOps(op.getV(), op.getK());
      replaceWithLaunch(rewriter, op, spec, launchOptions, rotate, launcher);
      if (spec.valueFromKey)
        valueOps.eraseDead(rewriter);
    }
    // The backward: prep, main, finish (and zero) kernels per spec, one
    // launcher per main kernel and operand types.
    std::map<FlashKernelSpec, BackwardKernels> backwardKernelsOf;
    llvm::DenseMap<std::pair<Operation *, Type>, func::FuncOp>
        backwardLauncherOf;
    for (auto &[op, spec] : backwardWork) {
      BackwardKernels &built = backwardKernelsOf[spec];
      if (!built.main) {
        Location at = op.getLoc();
        built.main = buildFlashBackwardKernel(builder, at, kernels, spec,
                                              backwardBaseName(spec));
        kernelSymbols.insert(built.main); // a second scale gets a suffix
        std::string name = built.main.getName().str();
        built.prep = buildFlashBackwardPrepKernel(builder, at, kernels, spec,
                                                  name + "_prep");
        float scale = float(double(spec.scaleLog2e) * M_LN2);
        built.finish = buildFlashBackwardFinishKernel(
            builder, at, kernels, spec, name + "_finish", 1, scale);
        if (spec.headSplits > 1) {
          built.sumKeys = buildFlashBackwardFinishKernel(
              builder, at, kernels, spec, name + "_sum_dk", spec.headSplits,
              scale);
          built.sumValues = buildFlashBackwardFinishKernel(
              builder, at, kernels, spec, name + "_sum_dv", spec.headSplits,
              1.0f);
          kernelSymbols.insert(built.sumKeys);
          kernelSymbols.insert(built.sumValues);
        }
        built.zero =
            buildFlashBackwardZeroKernel(builder, at, kernels, name + "_zero");
        for (gpu::GPUFuncOp kernel : {built.prep, built.finish, built.zero})
          kernelSymbols.insert(kernel);
        built.main->setAttr(
            TuckerDialect::LaunchAttrHelper::getNameStr(),
            launchDictionary(
                builder,
                {
                    builder.getNamedAttr("backward", builder.getBoolAttr(true)),
                    builder.getNamedAttr(
                        "block_m", builder.getI64IntegerAttr(kBackwardQueries)),
                    builder.getNamedAttr(
                        "block_n", builder.getI64IntegerAttr(kBackwardKeys)),
                    builder.getNamedAttr("threads",
                                         builder.getI64IntegerAttr(384)),
                    builder.getNamedAttr("ordered_dq",
                                         builder.getBoolAttr(spec.orderedDq)),
                    builder.getNamedAttr(
                        "head_splits",
                        builder.getI64IntegerAttr(spec.headSplits)),
                    builder.getNamedAttr("shared_bytes",
                                         builder.getI64IntegerAttr(
                                             flashBackwardSharedBytes(spec))),
                },
                spec));
      }
      auto key =
          std::make_pair(built.main.getOperation(),
                         Type(builder.getFunctionType(op->getOperandTypes(),
                                                      op->getResultTypes())));
      func::FuncOp &launcher = backwardLauncherOf[key];
      if (!launcher) {
        launcher = buildBackwardLauncher(
            builder, op.getLoc(), module, built, spec, op,
            ("tucker_flash_launch_" + built.main.getName()).str());
        symbols.insert(launcher);
      }
      ValueFromKeyOps valueOps(op.getV(), op.getK());
      replaceBackwardWithLaunch(rewriter, op, spec, launcher);
      if (spec.valueFromKey)
        valueOps.eraseDead(rewriter);
    }
    // The zero kernel runs only where a launch may have no query row.
    for (auto &entry : backwardKernelsOf)
      if (SymbolTable::symbolKnownUseEmpty(entry.second.zero, module))
        entry.second.zero.erase();

    // A decode kernel that merges its own splits (static shapes) launches
    // no combine: drop the combine kernels no launcher uses.
    for (auto &entry : combineOf)
      if (entry.second &&
          SymbolTable::symbolKnownUseEmpty(entry.second, module))
        entry.second.erase();
  }
};

} // namespace

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
// kernel (FlashDecodeKernel.cpp).
//
//===----------------------------------------------------------------------===//

#include "FlashToGpu.h"
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
#include <limits>
#include <map>

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERFLASHTOGPUPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

namespace {

/// `v` and `k` before the tensor.expand_shape that both went through, when
/// it is the same and leaves the last dim alone (a latent [B, N, D] given
/// its kv head: [B, 1, N, D]); else `v` and `k`.
static std::pair<Value, Value> beforeCommonExpand(FlashOp op) {
  auto ve = op.getV().getDefiningOp<tensor::ExpandShapeOp>();
  auto ke = op.getK().getDefiningOp<tensor::ExpandShapeOp>();
  if (!ve || !ke || ve.getReassociationIndices() != ke.getReassociationIndices() ||
      ke.getReassociationIndices().back().size() != 1)
    return {op.getV(), op.getK()};
  return {ve.getSrc(), ke.getSrc()};
}

/// Column offset of `v` in `k` when `v` is `k` itself or a column slice of
/// `k` (ColumnSlice.h), directly or before a common expand_shape: the shared
/// latent of a folded Tucker or MLA layer.
static std::optional<int64_t> valueColumnInKey(FlashOp op) {
  if (op.getV() == op.getK())
    return 0;
  auto [v, k] = beforeCommonExpand(op);
  auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice || slice.getSource() != k)
    return std::nullopt;
  return columnSliceOffset(slice);
}

/// Query rows a group's tiles hold (positions padded) with `heads` heads
/// per blockM-row tile, for each heads count that fits, fewest heads first.
static SmallVector<std::pair<int64_t, int64_t>>
paddedRows(int64_t group, int64_t nq, int64_t blockM) {
  SmallVector<std::pair<int64_t, int64_t>> out;
  for (int64_t heads = 1; heads <= std::min(group, blockM); heads *= 2)
    if (group % heads == 0) {
      int64_t rows = blockM / heads;
      out.push_back({heads, (nq + rows - 1) / rows * blockM * (group / heads)});
    }
  return out;
}

/// The fewest query rows of paddedRows.
static int64_t leastPaddedRows(int64_t group, int64_t nq, int64_t blockM) {
  int64_t least = std::numeric_limits<int64_t>::max();
  for (auto [heads, rows] : paddedRows(group, nq, blockM))
    least = std::min(least, rows);
  return least;
}

/// Query heads per M tile when the option leaves it to the shapes. The
/// group's heads share K/V, so an M tile may hold `heads` of them with
/// blockM / heads positions each (blockM is 64, 128 or 192); the tiles of a
/// head pad its Nq positions to a multiple of that. Take the fewest heads (a
/// power of two dividing the group) whose padded rows are within 1 % of the
/// least: decode packs the whole group, a short prefill as many heads as
/// fill the tile, and N = 1024 at 192 rows takes 2 heads of 96 rows
/// (11 tiles of 96 pad 3 %; 6 tiles of 192, 12.5 %).
static int64_t autoHeadsPerTile(int64_t group, int64_t nq, int64_t blockM) {
  if (group == 1 || ShapedType::isDynamic(nq))
    return 1;
  int64_t least = leastPaddedRows(group, nq, blockM);
  for (auto [heads, rows] : paddedRows(group, nq, blockM))
    if (rows * 100 <= least * 101)
      return heads;
  return 1;
}

/// Query rows of a decode M tile at most: one tile of heads × positions.
constexpr int64_t kMaxDecodeQueries = 64;

/// The kernel spec of `op`, or a diagnostic at the op naming the limit.
FailureOr<FlashKernelSpec> analyze(FlashOp op, StringRef chip, bool pingPong,
                                   int64_t headsPerTile, StringRef decode,
                                   int64_t keysPerTile,
                                   int64_t consumerWarpgroups) {
  auto fail = [&]() {
    return op.emitOpError() << "cannot be lowered by --tucker-flash-to-gpu: ";
  };
  if (chip != "sm_90a" && chip != "sm_90") {
    fail() << "chip '" << chip
           << "' is not supported (the kernels use wgmma, TMA and setmaxnreg: "
              "sm_90a)";
    return failure();
  }
  auto qType = op.getQ().getType();
  auto kType = op.getK().getType();
  auto vType = op.getV().getType();
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
  spec.qkDim = qType.getDimSize(3);
  spec.valueDim = vType.getDimSize(3);
  spec.groupSize = qType.getDimSize(1) / kType.getDimSize(1);
  spec.lengths = static_cast<bool>(op.getLengths());
  int64_t nq = qType.getDimSize(2);
  bool fewQueries = !ShapedType::isDynamic(nq) && nq <= kMaxDecodeQueries;
  if (decode == "on") {
    if (!fewQueries) {
      fail() << "decode=on needs a static Nq of at most " << kMaxDecodeQueries
             << " (one M tile), got "
             << (ShapedType::isDynamic(nq) ? std::string("?")
                                           : std::to_string(nq));
      return failure();
    }
    spec.decode = true;
  } else if (decode == "auto") {
    spec.decode = fewQueries;
  } else if (decode != "off") {
    fail() << "decode='" << decode << "' is not one of auto, on, off";
    return failure();
  }
  if (!spec.wide() && !spec.decode) {
    spec.keysPerTile = keysPerTile;
    if (consumerWarpgroups == 3 && spec.valueDim > 64) {
      fail() << "consumer-warpgroups = 3 needs Dv <= 64 (a consumer thread "
                "has 160 registers), got Dv = "
             << spec.valueDim;
      return failure();
    }
    spec.consumerGroups = consumerWarpgroups;
    if (consumerWarpgroups == 0) {
      // Three consumers hide more of the softmax, which outweighs the wgmma
      // at d <= 64 (H100, latent MQA with heads packed to pad the fewest
      // rows: +15-19 % non-causal and +8 % causal at N = 4096, +17 % and
      // +3 % at N = 1024; docs/perf.md, session 5).
      bool narrow = spec.qkDim <= 64 && spec.valueDim <= 64;
      spec.consumerGroups = narrow ? 3 : 2;
      // Causal, unless 192-row tiles pad over 6 % more query rows than
      // 128-row ones at the best packing: MHA at N = 1024 (12.5 %) runs
      // 242-247 TFLOP/s with two consumers, 225-227 with three (latent MQA
      // there pads 3 % and keeps three: 277 against 245; session 6).
      int64_t nq = qType.getDimSize(2);
      if (narrow && op.getCausal() && !ShapedType::isDynamic(nq) &&
          leastPaddedRows(spec.groupSize, nq, 192) * 100 >
              leastPaddedRows(spec.groupSize, nq, 128) * 106)
        spec.consumerGroups = 2;
    }
  }
  if (headsPerTile == 0) {
    spec.headsPerTile =
        autoHeadsPerTile(spec.groupSize, qType.getDimSize(2), spec.blockM());
  } else if (!llvm::isPowerOf2_64(headsPerTile) ||
             headsPerTile > spec.blockM() ||
             spec.groupSize % headsPerTile != 0) {
    fail() << "heads-per-tile = " << headsPerTile
           << " must be a power of two up to " << spec.blockM()
           << " (the M tile) that divides Hq / Hkv = "
           << spec.groupSize;
    return failure();
  } else {
    spec.headsPerTile = headsPerTile;
  }
  if (std::optional<int64_t> column = valueColumnInKey(op)) {
    spec.valueFromKey = true;
    spec.valueColumn = *column;
  }
  if (RopeAttr rope = op.getRopeAttr()) {
    spec.ropeTheta = rope.getTheta().convertToDouble();
    spec.ropeWidth = rope.getWidth();
    spec.ropeOffset = rope.getOffset();
    spec.ropeRepeat = rope.getRepeat();
    spec.ropeStride = rope.getStrideOrWidth();
    spec.ropeInterleaved = rope.getStyle() == RopeStyle::Interleaved;
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
  spec.causal = op.getCausal();
  spec.scaleLog2e = float(op.getEffectiveScale() * M_LOG2E);
  spec.pingPong = pingPong;
  std::string reason = unsupportedReason(spec);
  if (!reason.empty()) {
    fail() << reason;
    return failure();
  }
  return spec;
}

struct TuckerFlashToGpuPass
    : tucker::impl::TuckerFlashToGpuPassBase<TuckerFlashToGpuPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Bounded above too: the split planning multiplies them by CTAs per SM
    // and tile counts in int64 (a grid dimension is at most 2^31 - 1 anyway).
    constexpr int64_t kMaxSplits = 65535, kMaxSms = 4096;
    if (kvSplits < 0 || kvSplits > kMaxSplits || smCount < 1 ||
        smCount > kMaxSms) {
      emitError(module.getLoc())
          << "--tucker-flash-to-gpu: kv-splits = " << int64_t(kvSplits)
          << " and sm-count = " << int64_t(smCount) << " must be in [0, "
          << kMaxSplits << "] and [1, " << kMaxSms << "]";
      return signalPassFailure();
    }
    if (consumerWarpgroups != 0 && consumerWarpgroups != 2 &&
        consumerWarpgroups != 3) {
      emitError(module.getLoc())
          << "--tucker-flash-to-gpu: consumer-warpgroups = "
          << int64_t(consumerWarpgroups)
          << " must be 0 (from the shapes), 2 or 3";
      return signalPassFailure();
    }
    if (keysPerTile != 0 &&
        (keysPerTile % 16 != 0 || keysPerTile < 32 || keysPerTile > 256)) {
      emitError(module.getLoc())
          << "--tucker-flash-to-gpu: keys-per-tile = " << int64_t(keysPerTile)
          << " must be 0 (from the shapes) or a multiple of 16 in [32, 256]";
      return signalPassFailure();
    }
    SmallVector<std::pair<FlashOp, FlashKernelSpec>> work;
    bool ok = true;
    module.walk([&](FlashOp op) {
      FailureOr<FlashKernelSpec> spec =
          analyze(op, chip, pingPong, headsPerTile, decode, keysPerTile,
                  consumerWarpgroups);
      if (failed(spec))
        ok = false;
      else
        work.push_back({op, *spec});
    });
    if (!ok)
      return signalPassFailure();
    if (work.empty())
      return;
    DecodeOptions decodeOptions{kvSplits, smCount};

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
    llvm::DenseMap<std::tuple<Operation *, Operation *, Type>, func::FuncOp>
        launcherOf;
    IRRewriter rewriter(ctx);
    for (auto &[op, opSpec] : work) {
      // Prefill with rope: q and k rotated ahead by a kernel of their own,
      // the flash kernel is the one without rope.
      bool rotate = ropeKernel && opSpec.rope() && !opSpec.decode;
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
            "tucker.launch",
            builder.getDictionaryAttr({
                builder.getNamedAttr(
                    "block_m", builder.getI64IntegerAttr(tiling.blockM)),
                builder.getNamedAttr("heads_per_tile", builder.getI64IntegerAttr(
                                                           spec.headsPerTile)),
                builder.getNamedAttr("value_from_key",
                                     builder.getBoolAttr(spec.valueFromKey)),
                builder.getNamedAttr("block_n",
                                     builder.getI64IntegerAttr(tiling.blockN)),
                builder.getNamedAttr("threads", builder.getI64IntegerAttr(
                                                    spec.threads())),
                builder.getNamedAttr("shared_bytes",
                                     builder.getI64IntegerAttr(tiling.request)),
                builder.getNamedAttr("stages",
                                     builder.getI64IntegerAttr(tiling.stages)),
                builder.getNamedAttr("element",
                                     builder.getStringAttr(spec.elementName())),
                builder.getNamedAttr("qk_dim",
                                     builder.getI64IntegerAttr(spec.qkDim)),
                builder.getNamedAttr("v_dim",
                                     builder.getI64IntegerAttr(spec.valueDim)),
                builder.getNamedAttr("group",
                                     builder.getI64IntegerAttr(spec.groupSize)),
                builder.getNamedAttr("causal",
                                     builder.getBoolAttr(spec.causal)),
                builder.getNamedAttr("decode",
                                     builder.getBoolAttr(spec.decode)),
                builder.getNamedAttr("lengths",
                                     builder.getBoolAttr(spec.lengths)),
                builder.getNamedAttr(
                    "output_transposed",
                    builder.getBoolAttr(spec.outputTransposed)),
                builder.getNamedAttr("scale_log2e",
                                     builder.getF32FloatAttr(spec.scaleLog2e)),
            }));
      }
      // One launcher per kernel, rope kernel and operand types (those of the
      // buffers: a view read in place is a type of its own).
      SmallVector<Type> operandTypes(op->getOperandTypes());
      for (unsigned i = 0; i < 3; ++i) // q, k, v
        operandTypes[i] = operandBufferType(op->getOperand(i));
      auto key = std::make_tuple(
          kernel.getOperation(), rope ? rope.getOperation() : nullptr,
          Type(builder.getFunctionType(operandTypes, op->getResultTypes())));
      func::FuncOp &launcher = launcherOf[key];
      if (!launcher) {
        StringRef named = rope ? rope.getName() : kernel.getName();
        launcher = buildLauncher(builder, op.getLoc(), module, kernel, combine,
                                 rope, spec, decodeOptions, op,
                                 ("tucker_flash_launch_" + named).str());
        symbols.insert(launcher);
      }
      auto expand = op.getV().getDefiningOp<tensor::ExpandShapeOp>();
      Operation *slice =
          beforeCommonExpand(op).first.getDefiningOp<tensor::ExtractSliceOp>();
      replaceWithLaunch(rewriter, op, spec, decodeOptions, rotate, launcher);
      // V was read from K: the slice that made it (and the expand_shape
      // after it) are dead now, and so are the tensor.dim ops that sized it.
      if (spec.valueFromKey && expand && expand->use_empty())
        rewriter.eraseOp(expand);
      if (spec.valueFromKey && slice && slice->use_empty()) {
        SmallVector<Value> sizes(slice->getOperands());
        rewriter.eraseOp(slice);
        for (Value size : sizes)
          if (auto dim = size.getDefiningOp<tensor::DimOp>())
            if (dim->use_empty())
              rewriter.eraseOp(dim);
      }
    }
    // A decode kernel that merges its own splits (static shapes) launches
    // no combine: drop the combine kernels no launcher uses.
    for (auto &entry : combineOf)
      if (entry.second &&
          SymbolTable::symbolKnownUseEmpty(entry.second, module))
        entry.second.erase();
  }
};

} // namespace

//===- GpuConfigure.cpp - The Hopper schedule of each tucker.flash --------===//
//
// --tucker-gpu-configure: every heuristic of the Hopper backend, decided
// once per op and stamped as a #tucker.flash_schedule (a
// #tucker.flash_backward_schedule on a tucker.flash_backward) that
// --tucker-flash-to-gpu only reads. A schedule already on an op is kept and
// checked like a chosen one, against the kernels' resource model (specOf:
// head widths, the K/V ring in shared memory, the registers of a tile).
//
//===----------------------------------------------------------------------===//

#include "FlashBackwardKernel.h"
#include "FlashToGpu.h"

#include "tucker/Conversion/Passes.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::tucker {
#define GEN_PASS_DEF_TUCKERGPUCONFIGUREPASS
#include "tucker/Conversion/Passes.h.inc"
} // namespace mlir::tucker

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

namespace {

/// CTAs of the main backward kernel per SM below which the heads of a group
/// are split across CTAs. On the H100 (docs/perf.md), causal GQA 32/8 at
/// B 2, N 4096 (512 CTAs) ran 3.90 / 3.64 / 3.45 ms with 1 / 2 / 4 splits,
/// latent MQA 32/1 at B 4 (128 CTAs) 8.84 ms unsplit and 5.34 ms with 16.
constexpr int64_t kBackwardCtasPerSm = 16;

/// head_splits of a backward: 1, unless the main kernel would run fewer
/// than kBackwardCtasPerSm CTAs per SM (ceil(Nk / 128) · Hkv · B, a dynamic
/// size taken as 1); then the fewest powers of two dividing the group that
/// reach it, down to one query head per CTA.
int64_t backwardHeadSplits(FlashBackwardOp op, int64_t smCount) {
  auto kType = op.getK().getType();
  int64_t group = op.getQ().getType().getDimSize(1) /
                  std::max<int64_t>(1, kType.getDimSize(1));
  auto staticOr1 = [](int64_t size) {
    return ShapedType::isDynamic(size) ? 1 : size;
  };
  int64_t ctas = (staticOr1(kType.getDimSize(2)) + kBackwardKeys - 1) /
                 kBackwardKeys * kType.getDimSize(1) *
                 staticOr1(kType.getDimSize(0));
  int64_t splits = 1;
  while (ctas * splits < kBackwardCtasPerSm * smCount &&
         group % (2 * splits) == 0)
    splits *= 2;
  return splits;
}

/// Query rows of a decode M tile at most: one tile of heads × positions.
constexpr int64_t kMaxDecodeQueries = 64;

/// Query rows a group's tiles hold (positions padded) with `heads` heads
/// per blockM-row tile, for each heads count that fits, fewest heads first.
SmallVector<std::pair<int64_t, int64_t>> paddedRows(int64_t group, int64_t nq,
                                                    int64_t blockM) {
  SmallVector<std::pair<int64_t, int64_t>> out;
  for (int64_t heads = 1; heads <= std::min(group, blockM); heads *= 2)
    if (group % heads == 0) {
      int64_t rows = blockM / heads;
      out.push_back({heads, (nq + rows - 1) / rows * blockM * (group / heads)});
    }
  return out;
}

/// The fewest query rows of paddedRows.
int64_t leastPaddedRows(int64_t group, int64_t nq, int64_t blockM) {
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
int64_t autoHeadsPerTile(int64_t group, int64_t nq, int64_t blockM) {
  if (group == 1 || ShapedType::isDynamic(nq))
    return 1;
  int64_t least = leastPaddedRows(group, nq, blockM);
  for (auto [heads, rows] : paddedRows(group, nq, blockM))
    if (rows * 100 <= least * 101)
      return heads;
  return 1;
}

struct TuckerGpuConfigurePass
    : tucker::impl::TuckerGpuConfigurePassBase<TuckerGpuConfigurePass> {
  using Base::Base;

  /// The schedule of `op` from its shapes and the options, or a diagnostic.
  FailureOr<FlashScheduleAttr> choose(FlashOp op) {
    auto fail = [&]() {
      return op.emitOpError() << "cannot be configured by "
                                 "--tucker-gpu-configure: ";
    };
    auto qType = op.getQ().getType();
    int64_t nq = qType.getDimSize(2);
    int64_t qkDim = qType.getDimSize(3);
    int64_t valueDim = op.getV().getType().getDimSize(3);
    int64_t group = qType.getDimSize(1) / op.getK().getType().getDimSize(1);
    bool wide = qkDim > 256 || valueDim > 256;
    bool fewQueries = !ShapedType::isDynamic(nq) && nq <= kMaxDecodeQueries;
    // The log-sum-exp is written by the prefill kernel only: a flash that
    // returns it is never configured for decode by the heuristic.
    bool isDecode = decode == FlashDecodeMode::Auto
                        ? fewQueries && !op.getLse()
                        : decode == FlashDecodeMode::On;
    if (decode == FlashDecodeMode::On && !fewQueries) {
      fail() << "decode=on needs a static Nq of at most " << kMaxDecodeQueries
             << " (one M tile), got "
             << (ShapedType::isDynamic(nq) ? std::string("?")
                                           : std::to_string(nq));
      return failure();
    }
    int64_t consumers = 2;
    if (!wide && !isDecode) {
      if (consumerWarpgroups == 3 && valueDim > 64) {
        fail() << "consumer-warpgroups = 3 needs Dv <= 64 (a consumer thread "
                  "has 160 registers), got Dv = "
               << valueDim;
        return failure();
      }
      consumers = consumerWarpgroups;
      if (consumerWarpgroups == 0) {
        // Three consumers hide more of the softmax, which outweighs the
        // wgmma at d <= 64 (H100, latent MQA with heads packed to pad the
        // fewest rows: +15-19 % non-causal and +8 % causal at N = 4096, +17 %
        // and +3 % at N = 1024; docs/perf.md).
        bool narrow = qkDim <= 64 && valueDim <= 64;
        consumers = narrow ? 3 : 2;
        // Causal, unless 192-row tiles pad over 6 % more query rows than
        // 128-row ones at the best packing: MHA at N = 1024 (12.5 %) runs
        // 242-247 TFLOP/s with two consumers, 225-227 with three (latent
        // MQA there pads 3 % and keeps three: 277 against 245).
        if (narrow && op.getCausal() && !ShapedType::isDynamic(nq) &&
            leastPaddedRows(group, nq, 192) * 100 >
                leastPaddedRows(group, nq, 128) * 106)
          consumers = 2;
      }
    }
    int64_t blockM = wide || isDecode ? 64 : 64 * consumers;
    int64_t heads = headsPerTile;
    if (heads == 0) {
      heads = autoHeadsPerTile(group, nq, blockM);
    } else if (!llvm::isPowerOf2_64(heads) || heads > blockM ||
               group % heads != 0) {
      fail() << "heads-per-tile = " << heads << " must be a power of two up to "
             << blockM << " (the M tile) that divides Hq / Hkv = " << group;
      return failure();
    }
    return FlashScheduleAttr::getChecked(
        [&] { return fail(); }, op.getContext(), isDecode, consumers, heads,
        isDecode || wide ? 0 : int64_t(keysPerTile),
        isDecode ? int64_t(kvSplits) : 0, int64_t(smCount), bool(pingPong),
        bool(ropeKernel), /*dependent_launch=*/isDecode);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (chip != "sm_90a" && chip != "sm_90") {
      emitError(module.getLoc())
          << "--tucker-gpu-configure: chip '" << chip
          << "' is not supported (the kernels use wgmma, TMA and "
             "setmaxnreg: sm_90a)";
      return signalPassFailure();
    }
    constexpr int64_t kMaxSplits = 65535, kMaxSms = 4096;
    if (kvSplits < 0 || kvSplits > kMaxSplits || smCount < 1 ||
        smCount > kMaxSms) {
      emitError(module.getLoc())
          << "--tucker-gpu-configure: kv-splits = " << int64_t(kvSplits)
          << " and sm-count = " << int64_t(smCount) << " must be in [0, "
          << kMaxSplits << "] and [1, " << kMaxSms << "]";
      return signalPassFailure();
    }
    if (consumerWarpgroups != 0 && consumerWarpgroups != 2 &&
        consumerWarpgroups != 3) {
      emitError(module.getLoc())
          << "--tucker-gpu-configure: consumer-warpgroups = "
          << int64_t(consumerWarpgroups)
          << " must be 0 (from the shapes), 2 or 3";
      return signalPassFailure();
    }
    if (keysPerTile != 0 &&
        (keysPerTile % 16 != 0 || keysPerTile < 32 || keysPerTile > 256)) {
      emitError(module.getLoc())
          << "--tucker-gpu-configure: keys-per-tile = " << int64_t(keysPerTile)
          << " must be 0 (from the shapes) or a multiple of 16 in [32, 256]";
      return signalPassFailure();
    }
    bool ok = true;
    module.walk([&](FlashOp op) {
      FlashScheduleAttr schedule = op.getScheduleAttr();
      if (!schedule) {
        FailureOr<FlashScheduleAttr> chosen = choose(op);
        if (failed(chosen)) {
          ok = false;
          return;
        }
        schedule = *chosen;
      }
      // What the kernels' resources allow (a schedule given in IR too).
      if (failed(specOf(op, schedule))) {
        ok = false;
        return;
      }
      op.setScheduleAttr(schedule);
    });
    // The backward kernels have one schedule: the main kernel's tiles.
    module.walk([&](FlashBackwardOp op) {
      FlashBackwardScheduleAttr schedule = op.getScheduleAttr();
      if (!schedule)
        schedule = FlashBackwardScheduleAttr::get(
            op.getContext(), kBackwardKeys, kBackwardQueries,
            backwardHeadSplits(op, smCount),
            /*orderedDq=*/op.getDeterministic());
      if (failed(backwardSpecOf(op, schedule))) {
        ok = false;
        return;
      }
      op.setScheduleAttr(schedule);
    });
    if (!ok)
      signalPassFailure();
  }
};

} // namespace

//===- TuckerAttrs.cpp - Tucker attributes --------------------------------===//

#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tucker;

#include "tucker/Dialect/Tucker/IR/TuckerEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.cpp.inc"

void TuckerDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.cpp.inc"
      >();
}

static LogicalResult verifyRankTriple(function_ref<InFlightDiagnostic()> emitError,
                                      StringRef which, ArrayRef<int64_t> ranks) {
  if (ranks.size() != 3)
    return emitError() << which << " ranks must be a triple [head, "
                       << (which == "pre" ? "query, key" : "output, value")
                       << "], got " << ranks.size() << " entries";
  for (int64_t rank : ranks)
    if (rank <= 0)
      return emitError() << which << " ranks must be positive, got " << rank;
  return success();
}

LogicalResult RanksAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                ArrayRef<int64_t> pre, ArrayRef<int64_t> post) {
  return success(succeeded(verifyRankTriple(emitError, "pre", pre)) &&
                 succeeded(verifyRankTriple(emitError, "post", post)));
}

LogicalResult
SelectorAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t headDim, std::optional<int64_t> valueDim,
                     ArrayRef<int64_t> groups) {
  if (headDim <= 0)
    return emitError() << "selector head_dim must be positive, got "
                       << headDim;
  if (valueDim && *valueDim <= 0)
    return emitError() << "selector value_dim must be positive, got "
                       << *valueDim;
  if (groups.empty())
    return emitError() << "selector groups must name the key block of at "
                          "least one head";
  for (auto [head, group] : llvm::enumerate(groups))
    if (group < 0)
      return emitError() << "selector group of head " << head
                         << " must be non-negative, got " << group;
  // Every key block must be read by some head, or the key factor would have
  // columns no head uses. n heads read at most n blocks, so a block up to n
  // is unread when the largest group is n or more (no max + 1 overflow).
  int64_t numKv =
      std::min<int64_t>(*llvm::max_element(groups), groups.size()) + 1;
  for (int64_t block = 0; block < numKv; ++block)
    if (!llvm::is_contained(groups, block))
      return emitError() << "selector key block " << block
                         << " is read by no head";
  return success();
}

int64_t SelectorAttr::getNumKvBlocks() const {
  return *llvm::max_element(getGroups()) + 1;
}

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               APFloat thetaValue, int64_t width,
                               int64_t offset, int64_t repeat,
                               std::optional<int64_t> stride, RopeStyle) {
  double theta = thetaValue.convertToDouble();
  if (!std::isfinite(theta) || theta <= 0.0)
    return emitError() << "rope theta must be finite and positive, got "
                       << theta;
  if (width <= 0 || width % 2 != 0)
    return emitError() << "rope width must be positive and even, got "
                       << width;
  if (offset < 0)
    return emitError() << "rope offset must be non-negative, got " << offset;
  if (repeat <= 0)
    return emitError() << "rope repeat must be positive, got " << repeat;
  if (stride && *stride < width)
    return emitError() << "rope stride (" << *stride
                       << ") must be at least the width (" << width
                       << ") so that blocks do not overlap";
  // getEnd() = offset + stride*(repeat-1) + width must be a 64-bit size.
  int64_t step = stride.value_or(width), span, end;
  if (llvm::MulOverflow(step, repeat - 1, span) ||
      llvm::AddOverflow(offset, span, end) ||
      llvm::AddOverflow(end, width, end))
    return emitError() << "rope rotates dims up to offset + stride*(repeat-1) "
                          "+ width, which overflows a 64-bit size (offset "
                       << offset << ", stride " << step << ", repeat "
                       << repeat << ", width " << width << ")";
  return success();
}

LogicalResult RmsNormAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  APFloat epsilonValue, int64_t width) {
  double epsilon = epsilonValue.convertToDouble();
  if (!std::isfinite(epsilon) || epsilon <= 0.0)
    return emitError() << "rms_norm epsilon must be finite and positive, got "
                       << epsilon;
  if (width <= 0)
    return emitError() << "rms_norm width must be positive, got " << width;
  return success();
}

LogicalResult
FlashScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                          bool decode, int64_t consumers, int64_t headsPerTile,
                          int64_t keysPerTile, int64_t kvSplits,
                          int64_t smCount, bool pingPong, bool ropeKernel,
                          bool dependentLaunch) {
  if (consumers != 2 && consumers != 3)
    return emitError() << "consumers = " << consumers
                       << " must be 2 or 3 (consumer warpgroups)";
  if (decode && consumers != 2)
    return emitError() << "a decode schedule runs 2 consumer warpgroups, got "
                       << consumers;
  if (headsPerTile < 1 || !llvm::isPowerOf2_64(headsPerTile) ||
      headsPerTile > 64 * consumers)
    return emitError() << "heads_per_tile = " << headsPerTile
                       << " must be a power of two up to the query tile's "
                       << 64 * consumers << " rows";
  if (keysPerTile != 0 &&
      (keysPerTile % 16 != 0 || keysPerTile < 32 || keysPerTile > 256))
    return emitError() << "keys_per_tile = " << keysPerTile
                       << " must be 0 (the largest that fits) or a multiple "
                          "of 16 in [32, 256]";
  if (decode && keysPerTile != 0)
    return emitError() << "a decode schedule reads 64-key tiles; "
                          "keys_per_tile must be 0, got "
                       << keysPerTile;
  // Bounded above: the split planning multiplies them by CTAs per SM and
  // tile counts in int64 (a grid dimension is at most 2^31 - 1 anyway).
  if (kvSplits < 0 || kvSplits > 65535)
    return emitError() << "kv_splits = " << kvSplits
                       << " must be in [0, 65535] (0: planned at launch)";
  if (!decode && kvSplits != 0)
    return emitError() << "kv_splits = " << kvSplits
                       << " splits the keys of a decode schedule only";
  if (smCount < 1 || smCount > 4096)
    return emitError() << "sm_count = " << smCount << " must be in [1, 4096]";
  // Only the decode kernels begin with griddepcontrol.wait: another kernel
  // launched this way could read what the previous grid still writes.
  if (dependentLaunch && !decode)
    return emitError() << "dependent_launch needs a decode schedule (its "
                          "kernels wait for the previous grid themselves)";
  return success();
}

LogicalResult
FlashBackwardScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t keysPerTile, int64_t queriesPerTile,
                                  int64_t headSplits, bool /*orderedDq*/) {
  if (headSplits < 1 || headSplits > 1024)
    return emitError() << "head_splits = " << headSplits
                       << " must be in [1, 1024]";
  for (auto [name, value] :
       {std::pair<StringRef, int64_t>{"keys_per_tile", keysPerTile},
        {"queries_per_tile", queriesPerTile}})
    if (value < 16 || value > 256 || value % 16 != 0)
      return emitError() << name << " = " << value
                         << " must be a multiple of 16 in [16, 256]";
  return success();
}

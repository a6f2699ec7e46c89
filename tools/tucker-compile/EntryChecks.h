//===- EntryChecks.h - Call-time shape checks of a compiled entry -*- C++
//-*-===//
//
// A compiled entry reads and writes its callers' arrays with the sizes their
// descriptors give. Where the IR relates two dynamic sizes (the batch of a
// flash's q and k) or fixes a size (a static dim, an output's dim), a call
// whose descriptors disagree would read or write out of bounds. The checks
// are collected from the entry at the tensor level and run in its C
// interface before anything else (README.md, "Shape checks").
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_COMPILE_ENTRYCHECKS_H
#define TUCKER_COMPILE_ENTRYCHECKS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace mlir::tucker {

/// A dimension of one of the entry's descriptors: argument (input) `index`
/// or result (caller-allocated output) `index`.
struct DescriptorDim {
  bool result = false;
  unsigned index = 0, dim = 0;
};

/// A condition on a call: `lhs` equals the static `size`, or (when `size` is
/// dynamic) the dimension `rhs`. `format` is the printf format of the
/// message when it fails, with `%lld` for the size of `lhs` (and of `rhs`):
/// the descriptors, their types and the ops that relate them.
struct DimCheck {
  DescriptorDim lhs;
  int64_t size;
  DescriptorDim rhs;
  std::string format;
};

/// The checks of `entry` (a func.func on tensors, before any pipeline):
/// every static dimension of its tensor arguments and results (memref
/// arguments are not checked), and every pair of
/// dynamic ones that its ops relate (tucker ops by their shape rules, linalg
/// structured ops by their loops, casts, empties, elementwise ops, returns).
SmallVector<DimCheck> collectDimChecks(func::FuncOp entry);

/// Replaces the lowered C interface `_mlir_ciface_<entry>` of `module` (LLVM
/// dialect) by one that takes the same descriptors, evaluates `checks` and
/// returns a message (a `const char *` into a thread-local buffer naming the
/// descriptors, their sizes and the ops) for the first that fails, or calls
/// the entry and returns NULL. `leadingArgs` arguments (the CUDA stream)
/// come before the descriptors.
LogicalResult emitCheckedInterface(ModuleOp module, StringRef entry,
                                   ArrayRef<DimCheck> checks,
                                   ArrayRef<unsigned> inputRanks,
                                   ArrayRef<unsigned> outputRanks,
                                   unsigned leadingArgs);

} // namespace mlir::tucker

#endif // TUCKER_COMPILE_ENTRYCHECKS_H

//===- TuckerDialect.cpp - Tucker dialect ---------------------------------===//

#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::tucker;

#include "tucker/Dialect/Tucker/IR/TuckerDialect.cpp.inc"

void TuckerDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "tucker/Dialect/Tucker/IR/TuckerOps.cpp.inc"
      >();
}

LogicalResult
TuckerDialect::verifyOperationAttribute(Operation *op,
                                        NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  Attribute value = attribute.getValue();
  StringRef opName = op->getName().getStringRef();
  if (name == PersistentAttrHelper::getNameStr()) {
    if (!isa<UnitAttr>(value) || opName != "memref.alloc")
      return op->emitOpError()
             << "'" << name
             << "' is a unit attribute of memref.alloc (a workspace region "
                "the host function keeps between calls)";
    return success();
  }
  if (name == WorkspaceBytesAttrHelper::getNameStr()) {
    auto bytes = dyn_cast<IntegerAttr>(value);
    if (!bytes || bytes.getValue().isNegative() ||
        !isa<FunctionOpInterface>(op))
      return op->emitOpError()
             << "'" << name
             << "' is the non-negative integer size in bytes of a function's "
                "device workspace, got "
             << value;
    return success();
  }
  // On the generated gpu.func, and on what the NVVM lowering makes of it.
  if (name == LaunchAttrHelper::getNameStr()) {
    if (!isa<DictionaryAttr>(value) || !isa<FunctionOpInterface>(op) ||
        !op->getParentOfType<gpu::GPUModuleOp>())
      return op->emitOpError() << "'" << name
                               << "' is the launch geometry (a dictionary) "
                                  "of a generated kernel in a gpu.module";
    return success();
  }
  return op->emitOpError()
         << "'" << name
         << "' is not an attribute of the tucker dialect (it has "
         << PersistentAttrHelper::getNameStr() << ", "
         << WorkspaceBytesAttrHelper::getNameStr() << " and "
         << LaunchAttrHelper::getNameStr() << ")";
}

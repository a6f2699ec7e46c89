//===- TuckerDialect.cpp - Tucker dialect ---------------------------------===//

#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

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

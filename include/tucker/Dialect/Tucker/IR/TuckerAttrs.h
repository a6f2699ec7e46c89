//===- TuckerAttrs.h - Tucker attributes ------------------------*- C++ -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_H
#define TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "tucker/Dialect/Tucker/IR/TuckerEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h.inc"

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKERATTRS_H

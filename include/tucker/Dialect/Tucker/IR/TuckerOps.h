//===- TuckerOps.h - Tucker operations --------------------------*- C++ -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKEROPS_H
#define TUCKER_DIALECT_TUCKER_IR_TUCKEROPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "tucker/Dialect/Tucker/IR/ShapeRules.h"
#include "tucker/Dialect/Tucker/IR/TuckerAttrs.h"
#include "tucker/Dialect/Tucker/IR/TuckerDialect.h"

#define GET_OP_CLASSES
#include "tucker/Dialect/Tucker/IR/TuckerOps.h.inc"

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKEROPS_H

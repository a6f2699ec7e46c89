//===- TuckerDialect.h - Tucker dialect -------------------------*- C++ -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKERDIALECT_H
#define TUCKER_DIALECT_TUCKER_IR_TUCKERDIALECT_H

#include "mlir/IR/Dialect.h"

#include "tucker/Dialect/Tucker/IR/TuckerDialect.h.inc"

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKERDIALECT_H

//===- TuckerDialect.h - Tucker dialect -------------------------*- C++ -*-===//

#ifndef TUCKER_DIALECT_TUCKER_IR_TUCKERDIALECT_H
#define TUCKER_DIALECT_TUCKER_IR_TUCKERDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "tucker/Dialect/Tucker/IR/TuckerDialect.h.inc"

#endif // TUCKER_DIALECT_TUCKER_IR_TUCKERDIALECT_H

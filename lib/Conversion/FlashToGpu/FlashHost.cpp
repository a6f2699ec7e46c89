//===- FlashHost.cpp - Host side of the generated flash kernels -----------===//
//
// The launcher function that --tucker-flash-to-gpu emits next to each kernel,
// and the replacement of a tucker.flash on tensors by a call to it.
//
// Launcher ABI (docs/gpu-notes.md, "The --tucker-flash-to-gpu pass"):
//
//   func.func private @tucker_flash_launch_<kernel>(
//       %q: memref<BxHqxNqxDqkxT>, %k: memref<BxHkvxNkxDqkxT>,
//       [%v: memref<BxHkvxNkxDvxT>,] %o: memref<BxHqxNqxDvxT>)
//
// with row-major (identity-layout) device buffers; %v is absent when the
// kernel reads V out of K. It builds the tensor maps with
// nvgpu.tma.create.descriptor (the upstream host op; it lowers to
// mgpuTensorMapEncodeTiledMemref, which encodes the CUtensorMap and copies
// it to device memory), and launches the kernel with gpu.launch_func on grid
// (ceil(Nq / rows), Hq / headsPerTile, B), block 384 and the kernel's
// dynamic shared memory, when Nq > 0 and B > 0.
//
//===----------------------------------------------------------------------===//

#include "FlashToGpu.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "tucker/Dialect/Tucker/IR/TuckerOps.h"

using namespace mlir;
using namespace mlir::tucker;
using namespace mlir::tucker::flash_to_gpu;

/// The identity-layout memref of a ranked tensor type.
static MemRefType bufferType(Type tensorType) {
  auto type = cast<RankedTensorType>(tensorType);
  return MemRefType::get(type.getShape(), type.getElementType());
}

/// Tensor map of one operand: 4-D (D, N, heads, batch) innermost first, box
/// (64, rows, heads, 1), 128-byte swizzle, out-of-range elements read as
/// zero.
static Value createTensorMap(OpBuilder &b, Location loc, Value buffer,
                             int64_t rows, int64_t heads,
                             llvm::function_ref<Value(int64_t)> index) {
  auto type = cast<MemRefType>(buffer.getType());
  Type element = type.getElementType();
  auto unranked = UnrankedMemRefType::get(element, /*memorySpace=*/0);
  Value cast = memref::CastOp::create(b, loc, unranked, buffer);
  auto box =
      MemRefType::get({1, heads, rows, FlashTiling::kChunk}, element,
                      MemRefLayoutAttrInterface(), b.getI64IntegerAttr(3));
  auto mapType = nvgpu::TensorMapDescriptorType::get(
      b.getContext(), box, nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_128B,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
  SmallVector<Value> boxSizes;
  for (int64_t size : box.getShape())
    boxSizes.push_back(index(size));
  Value map =
      nvgpu::TmaCreateDescriptorOp::create(b, loc, mapType, cast, boxSizes);
  // The kernel takes the map as a pointer (a tensormap-typed gpu.func
  // parameter does not legalize in MLIR 22); after --convert-nvgpu-to-nvvm
  // both sides are !llvm.ptr and the cast folds away.
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  return UnrealizedConversionCastOp::create(b, loc, ptr, map).getResult(0);
}

/// Size of `dim` of `buffer` as an index (constant when static).
static Value dimOf(OpBuilder &b, Location loc, Value buffer, int64_t dim,
                   llvm::function_ref<Value(int64_t)> index) {
  int64_t size = cast<MemRefType>(buffer.getType()).getDimSize(dim);
  if (!ShapedType::isDynamic(size))
    return index(size);
  return memref::DimOp::create(b, loc, buffer, index(dim));
}

func::FuncOp mlir::tucker::flash_to_gpu::buildLauncher(
    OpBuilder &builder, Location loc, ModuleOp module, gpu::GPUFuncOp kernel,
    const FlashKernelSpec &spec, FlashOp op, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  MemRefType qType = bufferType(op.getQ().getType());
  MemRefType kType = bufferType(op.getK().getType());
  MemRefType vType = bufferType(op.getV().getType());
  MemRefType oType = bufferType(op.getResult().getType());
  SmallVector<Type> argTypes{qType, kType};
  if (!spec.valueFromKey)
    argTypes.push_back(vType);
  argTypes.push_back(oType);
  auto func = func::FuncOp::create(builder, loc, name,
                                    builder.getFunctionType(argTypes, {}));
  func.setPrivate();
  OpBuilder b = OpBuilder::atBlockEnd(func.addEntryBlock());
  Value q = func.getArgument(0), k = func.getArgument(1);
  Value v = spec.valueFromKey ? Value() : func.getArgument(2);
  Value o = func.getArguments().back();

  // Index constants, created once at the top of the launcher.
  FlashTiling tiling(spec);
  llvm::DenseMap<int64_t, Value> indexConstants;
  auto index = [&](int64_t value) {
    Value &c = indexConstants[value];
    if (!c) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(b.getBlock());
      c = arith::ConstantIndexOp::create(b, loc, value);
    }
    return c;
  };
  for (int64_t value :
       {int64_t(0), int64_t(1), int64_t(2), FlashTiling::kChunk, tiling.blockN,
        spec.rowsPerHead(), spec.headsPerTile, FlashTiling::kThreads})
    index(value);

  Value batch = dimOf(b, loc, q, 0, index);
  Value nq = dimOf(b, loc, q, 2, index);
  Value nk = dimOf(b, loc, k, 2, index);
  if (kType.isDynamicDim(2)) {
    Value some =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, nk, index(0));
    cf::AssertOp::create(b, loc, some,
                         "tucker.flash on the GPU needs at least one key");
  }

  Value mapQ = createTensorMap(b, loc, q, spec.rowsPerHead(),
                               spec.headsPerTile, index);
  Value mapK = createTensorMap(b, loc, k, tiling.blockN, 1, index);
  Value mapV =
      v ? createTensorMap(b, loc, v, tiling.blockN, 1, index) : mapK;
  Value oIndex = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, o);
  Value oInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), oIndex);
  Value oPtr = LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), oInt);
  Value nq32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), nq);
  Value nk32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), nk);

  Value gridX =
      arith::CeilDivUIOp::create(b, loc, nq, index(spec.rowsPerHead()));
  Value heads = index(qType.getDimSize(1) / spec.headsPerTile);
  Value smem =
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), tiling.request);
  gpu::KernelDim3 grid{gridX, heads, batch};
  gpu::KernelDim3 block{index(FlashTiling::kThreads), index(1), index(1)};
  auto launch = [&](OpBuilder &lb) {
    gpu::LaunchFuncOp::create(lb, loc, kernel, grid, block, smem,
                              ValueRange{mapQ, mapK, mapV, oPtr, nq32, nk32});
  };
  bool staticNonEmpty = !qType.isDynamicDim(0) && !qType.isDynamicDim(2) &&
                        qType.getDimSize(0) > 0 && qType.getDimSize(2) > 0;
  if (staticNonEmpty) {
    launch(b);
  } else {
    // An empty grid is an invalid launch: skip it (nothing to compute).
    auto positive = [&](Value x) {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, x,
                                   index(0))
          .getResult();
    };
    Value nonEmpty =
        arith::AndIOp::create(b, loc, positive(nq), positive(batch));
    auto ifOp = scf::IfOp::create(b, loc, nonEmpty, /*withElseRegion=*/false);
    OpBuilder tb = OpBuilder::atBlockBegin(ifOp.thenBlock());
    launch(tb);
  }
  func::ReturnOp::create(b, loc);
  return func;
}

void mlir::tucker::flash_to_gpu::replaceWithLaunch(
    RewriterBase &rewriter, FlashOp op, const FlashKernelSpec &spec,
    func::FuncOp launcher) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  auto toBuffer = [&](Value tensor) {
    return bufferization::ToBufferOp::create(rewriter, loc,
                                             bufferType(tensor.getType()),
                                             tensor, /*read_only=*/true)
        .getResult();
  };
  SmallVector<Value> args{toBuffer(op.getQ()), toBuffer(op.getK())};
  if (!spec.valueFromKey)
    args.push_back(toBuffer(op.getV()));
  Value q = args.front();
  MemRefType oType = bufferType(op.getResult().getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t dim = 0; dim < oType.getRank(); ++dim)
    if (oType.isDynamicDim(dim)) // B and N: the same as q's
      dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, q, dim));
  Value o = memref::AllocOp::create(rewriter, loc, oType, dynamicSizes);
  args.push_back(o);
  func::CallOp::create(rewriter, loc, launcher, args);
  Value result = bufferization::ToTensorOp::create(
      rewriter, loc, op.getResult().getType(), o, /*restrict=*/true,
      /*writable=*/true);
  rewriter.replaceOp(op, result);
}

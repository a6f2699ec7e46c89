//===- EntryChecks.cpp - Call-time shape checks of a compiled entry -------===//
//
// The dimensions of the entry's tensors form a graph whose edges are the
// equalities its ops require or define; each connected class of it holds at
// most one size, which every argument and output dimension in the class must
// have at a call. The checks compare each such descriptor dimension with the
// class's static size, or with the class's first argument dimension.
//
//===----------------------------------------------------------------------===//

#include "EntryChecks.h"

#include "tucker/Dialect/Tucker/IR/ShapeRules.h"

#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <deque>

using namespace mlir;
using namespace mlir::tucker;

/// Bytes of the thread-local buffer a failed check's message is written to.
static constexpr int64_t kMessageBytes = 1024;

/// `file:line:col` of `loc` (the file's base name), or "unknown location".
static std::string formatLoc(Location loc) {
  if (auto file = loc->findInstanceOf<FileLineColLoc>())
    return llvm::formatv("{0}:{1}:{2}",
                         llvm::sys::path::filename(file.getFilename()),
                         file.getLine(), file.getColumn());
  return "unknown location";
}

/// `text` as a literal part of a printf format.
static std::string escapePercent(StringRef text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '%')
      out += '%';
  }
  return out;
}

namespace {

/// The dimensions of the entry's tensors and of its outputs, and the
/// equalities between them, with what makes each one.
class DimGraph {
public:
  /// Dimension `dim` of the tensor `value`.
  unsigned node(Value value, unsigned dim) {
    auto [it, inserted] = valueNodes.try_emplace({value, dim}, nodes.size());
    if (inserted)
      nodes.push_back({value, -1, dim});
    return it->second;
  }
  /// Dimension `dim` of the entry's output `index`.
  unsigned outputNode(unsigned index, unsigned dim) {
    auto [it, inserted] = outputNodes.try_emplace({index, dim}, nodes.size());
    if (inserted)
      nodes.push_back({Value(), static_cast<int>(index), dim});
    return it->second;
  }
  void tie(unsigned a, unsigned b, std::string why) {
    if (a == b)
      return;
    classes.unionSets(a, b);
    edges[a].push_back({b, why});
    edges[b].push_back({a, std::move(why)});
  }
  void tie(Value a, unsigned aDim, Value b, unsigned bDim, std::string why) {
    tie(node(a, aDim), node(b, bDim), std::move(why));
  }
  unsigned leader(unsigned n) { return classes.getLeaderValue(n); }
  bool contains(unsigned n) { return classes.contains(n); }

  /// What makes `from` and `to` equal: the reasons along a shortest path.
  std::string why(unsigned from, unsigned to) {
    DenseMap<unsigned, std::pair<unsigned, const std::string *>> parent;
    std::deque<unsigned> queue = {from};
    parent[from] = {from, nullptr};
    while (!queue.empty() && !parent.count(to)) {
      unsigned n = queue.front();
      queue.pop_front();
      for (auto &[next, reason] : edges[n])
        if (parent.try_emplace(next, n, &reason).second)
          queue.push_back(next);
    }
    SmallVector<std::string> reasons;
    for (unsigned n = to; n != from; n = parent[n].first)
      if (!parent[n].second->empty())
        reasons.push_back(*parent[n].second);
    std::reverse(reasons.begin(), reasons.end());
    return llvm::join(reasons, "; ");
  }

  struct Node {
    Value value;
    int output; // the output's index for an output dimension, else -1
    unsigned dim;
  };
  SmallVector<Node> nodes;

private:
  DenseMap<std::pair<Value, unsigned>, unsigned> valueNodes;
  DenseMap<std::pair<unsigned, unsigned>, unsigned> outputNodes;
  llvm::EquivalenceClasses<unsigned> classes;
  DenseMap<unsigned, SmallVector<std::pair<unsigned, std::string>>> edges;
};

} // namespace

static unsigned rankOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type ? type.getRank() : 0;
}

/// The equalities `op` requires or defines between dimensions.
static void addTies(Operation *op, DimGraph &graph) {
  std::string where =
      llvm::formatv("'{0}' at {1}", op->getName(), formatLoc(op->getLoc()));
  if (SmallVector<DimTie> ties = getDimTies(op); !ties.empty()) {
    for (const DimTie &t : ties)
      graph.tie(t.a, t.aDim, t.b, t.bDim,
                llvm::formatv("'{0}' dim {1} and '{2}' dim {3} of {4} are {5}",
                              t.aName, t.aDim, t.bName, t.bDim, where,
                              t.meaning));
    return;
  }
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
    if (!linalgOp.hasPureTensorSemantics())
      return;
    // Operand dims indexed by one loop have the loop's size.
    struct Owner {
      Value value;
      unsigned dim, operand;
    };
    DenseMap<unsigned, Owner> loopOwner;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<RankedTensorType>(operand.get().getType()))
        continue;
      AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
      for (auto [d, expr] : llvm::enumerate(map.getResults())) {
        auto loop = dyn_cast<AffineDimExpr>(expr);
        if (!loop)
          continue;
        Owner self{operand.get(), static_cast<unsigned>(d),
                   operand.getOperandNumber()};
        auto [it, first] = loopOwner.try_emplace(loop.getPosition(), self);
        if (!first)
          graph.tie(self.value, self.dim, it->second.value, it->second.dim,
                    llvm::formatv("operands #{0} and #{1} of {2} run over "
                                  "its loop {3}",
                                  self.operand, it->second.operand, where,
                                  loop.getPosition()));
      }
    }
    for (OpResult result : op->getResults()) {
      Value init = linalgOp.getDpsInitOperand(result.getResultNumber())->get();
      for (unsigned d = 0; d < rankOf(result); ++d)
        graph.tie(result, d, init, d, where + " returns its init's shape");
    }
    return;
  }
  if (auto castOp = dyn_cast<tensor::CastOp>(op)) {
    for (unsigned d = 0; d < rankOf(castOp.getResult()); ++d)
      graph.tie(castOp.getResult(), d, castOp.getSource(), d,
                where + " keeps the sizes");
    return;
  }
  if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
    for (unsigned d = 0; d < rankOf(empty.getResult()); ++d) {
      if (!empty.getType().isDynamicDim(d))
        continue;
      auto dim = empty.getDynamicSize(d).getDefiningOp<tensor::DimOp>();
      std::optional<int64_t> index =
          dim ? dim.getConstantIndex() : std::nullopt;
      if (index)
        graph.tie(empty.getResult(), d, dim.getSource(), *index,
                  where + " is sized by a tensor.dim");
    }
    return;
  }
  auto reassociated = [&](Value collapsed, Value expanded,
                          ArrayRef<ReassociationIndices> groups) {
    for (auto [d, group] : llvm::enumerate(groups))
      if (group.size() == 1)
        graph.tie(collapsed, d, expanded, group.front(),
                  where + " keeps an unsplit dim");
  };
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return reassociated(expand.getSrc(), expand.getResult(),
                        expand.getReassociationIndices());
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return reassociated(collapse.getResult(), collapse.getSrc(),
                        collapse.getReassociationIndices());
  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    for (auto [i, value] : llvm::enumerate(ret.getOperands()))
      for (unsigned d = 0; d < rankOf(value); ++d)
        graph.tie(graph.outputNode(i, d), graph.node(value, d),
                  /*why=*/"");
    return;
  }
  // Elementwise ops on whole tensors (as frontends write them): one shape.
  if (op->hasTrait<OpTrait::Elementwise>() ||
      op->hasTrait<OpTrait::SameOperandsAndResultShape>()) {
    SmallVector<Value> tensors;
    auto add = [&](Value v) {
      if (isa<RankedTensorType>(v.getType()))
        tensors.push_back(v);
    };
    llvm::for_each(op->getOperands(), add);
    llvm::for_each(op->getResults(), add);
    if (tensors.empty())
      return;
    for (Value v : ArrayRef<Value>(tensors).drop_front())
      for (unsigned d = 0; d < rankOf(v); ++d)
        graph.tie(v, d, tensors.front(), d, where + " is elementwise");
  }
}

SmallVector<DimCheck> mlir::tucker::collectDimChecks(func::FuncOp entry) {
  DimGraph graph;
  Block &body = entry.getBody().front();
  FunctionType type = entry.getFunctionType();
  for (BlockArgument arg : body.getArguments())
    for (unsigned d = 0; d < rankOf(arg); ++d)
      graph.node(arg, d);
  for (auto [i, result] : llvm::enumerate(type.getResults()))
    if (auto shaped = dyn_cast<ShapedType>(result))
      for (unsigned d = 0; d < shaped.getRank(); ++d)
        graph.outputNode(i, d);
  entry.walk([&](Operation *op) { addTies(op, graph); });

  // Per class: its static size (and a node that has it), its first argument
  // dimension.
  struct ClassInfo {
    std::optional<std::pair<int64_t, unsigned>> size;
    std::optional<unsigned> firstArgument;
  };
  auto descriptorOf = [&](unsigned n) -> std::optional<DescriptorDim> {
    const DimGraph::Node &node = graph.nodes[n];
    if (node.output >= 0)
      return DescriptorDim{true, static_cast<unsigned>(node.output), node.dim};
    auto arg = dyn_cast<BlockArgument>(node.value);
    if (arg && arg.getOwner() == &body)
      return DescriptorDim{false, arg.getArgNumber(), node.dim};
    return std::nullopt;
  };
  auto staticSize = [&](unsigned n) -> std::optional<int64_t> {
    const DimGraph::Node &node = graph.nodes[n];
    auto shaped = node.output >= 0
                      ? dyn_cast<ShapedType>(type.getResult(node.output))
                      : dyn_cast<ShapedType>(node.value.getType());
    if (!shaped || shaped.isDynamicDim(node.dim))
      return std::nullopt;
    return shaped.getDimSize(node.dim);
  };
  llvm::MapVector<unsigned, ClassInfo> infos;
  for (unsigned n = 0; n < graph.nodes.size(); ++n) {
    unsigned leader = graph.contains(n) ? graph.leader(n) : n;
    ClassInfo &info = infos[leader];
    if (std::optional<int64_t> size = staticSize(n); size && !info.size)
      info.size = {{*size, n}};
    std::optional<DescriptorDim> desc = descriptorOf(n);
    if (desc && !desc->result && !info.firstArgument)
      info.firstArgument = n;
  }

  auto name = [&](DescriptorDim d) {
    Type t = d.result ? type.getResult(d.index) : type.getInput(d.index);
    std::string typeText;
    llvm::raw_string_ostream os(typeText);
    os << t;
    return llvm::formatv("{0} {1} ({2}) dim {3}",
                         d.result ? "output" : "argument", d.index, typeText,
                         d.dim)
        .str();
  };
  std::string prefix = ("@" + entry.getSymName() + ": ").str();
  SmallVector<DimCheck> checks;
  for (unsigned n = 0; n < graph.nodes.size(); ++n) {
    std::optional<DescriptorDim> desc = descriptorOf(n);
    if (!desc)
      continue;
    ClassInfo &info = infos[graph.contains(n) ? graph.leader(n) : n];
    if (info.size) {
      auto [size, source] = *info.size;
      std::string why =
          staticSize(n) ? std::string("its type") : graph.why(n, source);
      checks.push_back({*desc, size, DescriptorDim(),
                        escapePercent(prefix + name(*desc)) +
                            " is %lld, expected " + std::to_string(size) +
                            " (" + escapePercent(why) + ")"});
      continue;
    }
    if (!info.firstArgument || *info.firstArgument == n)
      continue;
    DescriptorDim first = *descriptorOf(*info.firstArgument);
    checks.push_back({*desc, ShapedType::kDynamic, first,
                      escapePercent(prefix + name(*desc)) + " is %lld but " +
                          escapePercent(name(first)) +
                          " is %lld; they must be equal: " +
                          escapePercent(graph.why(n, *info.firstArgument))});
  }
  return checks;
}

//===----------------------------------------------------------------------===//
// The checked C interface (LLVM dialect)
//===----------------------------------------------------------------------===//

LogicalResult mlir::tucker::emitCheckedInterface(ModuleOp module,
                                                 StringRef entry,
                                                 ArrayRef<DimCheck> checks,
                                                 ArrayRef<unsigned> inputRanks,
                                                 ArrayRef<unsigned> outputRanks,
                                                 unsigned leadingArgs) {
  std::string symbol = ("_mlir_ciface_" + entry).str();
  auto unchecked = module.lookupSymbol<LLVM::LLVMFuncOp>(symbol);
  if (!unchecked)
    return failure();
  unchecked.setSymName(("__tucker_unchecked_" + entry).str());
  unchecked->removeAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName());

  MLIRContext *ctx = module.getContext();
  Location loc = unchecked.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  auto i32 = IntegerType::get(ctx, 32);
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  FailureOr<LLVM::LLVMFuncOp> snprintf = LLVM::lookupOrCreateFn(
      b, module, "snprintf", {ptr, i64, ptr}, i32, /*isVarArg=*/true);
  if (failed(snprintf))
    return failure();
  auto bufferType =
      LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), kMessageBytes);
  auto buffer = LLVM::GlobalOp::create(
      b, loc, bufferType, /*isConstant=*/false, LLVM::Linkage::Internal,
      "__tucker_check_message", /*value=*/Attribute(), /*alignment=*/0,
      /*addrSpace=*/0, /*dsoLocal=*/false, /*thread_local_=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.createBlock(&buffer.getInitializerRegion());
    LLVM::ReturnOp::create(b, loc, LLVM::ZeroOp::create(b, loc, bufferType));
  }

  LLVM::LLVMFunctionType uncheckedType = unchecked.getFunctionType();
  auto checked = LLVM::LLVMFuncOp::create(
      b, loc, symbol,
      LLVM::LLVMFunctionType::get(ptr, uncheckedType.getParams()));
  Block *block = checked.addEntryBlock(b);
  ValueRange args = block->getArguments();
  b.setInsertionPointToStart(block);

  auto loadSize = [&](DescriptorDim d) -> Value {
    unsigned rank = d.result ? outputRanks[d.index] : inputRanks[d.index];
    unsigned arg = leadingArgs + (d.result ? inputRanks.size() : 0) + d.index;
    auto sizes = LLVM::LLVMArrayType::get(i64, rank);
    auto descriptor =
        LLVM::LLVMStructType::getLiteral(ctx, {ptr, ptr, i64, sizes, sizes});
    Value address = LLVM::GEPOp::create(
        b, loc, ptr, descriptor, args[arg],
        ArrayRef<LLVM::GEPArg>{0, 3, static_cast<int32_t>(d.dim)});
    return LLVM::LoadOp::create(b, loc, i64, address);
  };
  for (auto [i, check] : llvm::enumerate(checks)) {
    Value have = loadSize(check.lhs);
    bool pair = ShapedType::isDynamic(check.size);
    Value want = pair ? loadSize(check.rhs)
                      : LLVM::ConstantOp::create(
                            b, loc, i64, b.getI64IntegerAttr(check.size));
    Value bad =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, have, want);
    Block *next = b.createBlock(&checked.getBody());
    Block *refuse = b.createBlock(next);
    b.setInsertionPointToEnd(block);
    LLVM::CondBrOp::create(b, loc, bad, refuse, next);

    b.setInsertionPointToStart(refuse);
    Value message = LLVM::AddressOfOp::create(b, loc, buffer);
    Value format =
        LLVM::createGlobalString(loc, b, ("__tucker_check_" + Twine(i)).str(),
                                 check.format + '\0', LLVM::Linkage::Internal);
    Value capacity = LLVM::ConstantOp::create(
        b, loc, i64, b.getI64IntegerAttr(kMessageBytes));
    SmallVector<Value> operands = {message, capacity, format, have};
    if (pair)
      operands.push_back(want);
    LLVM::CallOp::create(b, loc, *snprintf, operands);
    LLVM::ReturnOp::create(b, loc, message);

    block = next;
    b.setInsertionPointToStart(block);
  }
  LLVM::CallOp::create(b, loc, unchecked, args);
  Value null = LLVM::ZeroOp::create(b, loc, ptr);
  LLVM::ReturnOp::create(b, loc, null);
  return success();
}

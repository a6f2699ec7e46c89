"""The shape checks of a compiled entry (tools/tucker-compile/EntryChecks.cpp): with dynamic
dimensions, a call whose arrays disagree on a size that the entry's ops relate is refused by the C
entry itself, before it runs anything, with a message naming the arguments, their sizes and the op;
every caller (tucker.Kernel, or C through the exported symbol) is protected. Consistent calls run
and match the float64 NumPy reference (f32: 1e-5 relative)."""

import ctypes

import numpy as np
import pytest

import tucker
from tucker import compiler
from tucker import reference as ref

try:
    import torch
except ImportError:
    torch = None

DYNAMIC_FLASH = """func.func @attn(%q: tensor<?x2x?x8xf32>, %k: tensor<?x1x?x8xf32>,
    %v: tensor<?x1x?x8xf32>) -> tensor<?x2x?x8xf32> {
  %o = tucker.flash %q, %k, %v {causal} : tensor<?x2x?x8xf32>, tensor<?x1x?x8xf32>,
      tensor<?x1x?x8xf32> -> tensor<?x2x?x8xf32>
  return %o : tensor<?x2x?x8xf32>
}
"""

DYNAMIC_MATMUL = """func.func @mm(%a: tensor<?x?xf32>, %b: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %e = tensor.empty(%m) : tensor<?x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x4xf32>) -> tensor<?x4xf32>
  %c = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x4xf32>)
      outs(%z : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %c : tensor<?x4xf32>
}
"""


def rel_err(out, expected):
    return np.abs(np.asarray(out, np.float64) - expected).max() / np.abs(expected).max()


@pytest.fixture(scope="module")
def flash():
    return tucker.compile(DYNAMIC_FLASH)


def arrays(rng, bq, nq, bk, nk, nv):
    return (rng.standard_normal((bq, 2, nq, 8)).astype(np.float32),
            rng.standard_normal((bk, 1, nk, 8)).astype(np.float32),
            rng.standard_normal((bk, 1, nv, 8)).astype(np.float32))


@pytest.mark.parametrize("bq,nq,nk", [(2, 5, 6), (3, 9, 4), (1, 1, 17)])
def test_consistent_calls_run(flash, bq, nq, nk):
    q, k, v = arrays(np.random.default_rng(bq * 10 + nq), bq, nq, bq, nk, nk)
    expected = ref.flash(q, k, v, causal=True)
    assert rel_err(flash(q, k, v), expected) <= 1e-5


@pytest.mark.parametrize("sizes,message", [
    # q batch 2, k/v batch 1: the kernel would read k/v past their end.
    ((2, 5, 1, 6, 6), r"argument 1 \(tensor<\?x1x\?x8xf32>\) dim 0 is 1 but argument 0 "
                      r"\(tensor<\?x2x\?x8xf32>\) dim 0 is 2; they must be equal: 'k' dim 0 and "
                      r"'q' dim 0 of 'tucker.flash' at kernel.mlir:3:8 are the batch B"),
    # A batch far past the others' memory (a crash before the check).
    ((20000, 5, 1, 6, 6), r"argument 1 \(tensor<\?x1x\?x8xf32>\) dim 0 is 1 but argument 0 \(tensor<\?x2x\?x8xf32>\) "
                          r"dim 0 is 20000"),
    # k with 6 keys beside v with 3.
    ((2, 5, 2, 6, 3), r"argument 2 \(tensor<\?x1x\?x8xf32>\) dim 2 is 3 but argument 1 "
                      r"\(tensor<\?x1x\?x8xf32>\) dim 2 is 6; they must be equal: 'v' dim 2 and "
                      r"'k' dim 2 of 'tucker.flash' at kernel.mlir:3:8 are the key count Nk"),
])
@pytest.mark.parametrize("as_torch", [False, True])
def test_inconsistent_calls_are_refused(flash, sizes, message, as_torch):
    if as_torch and torch is None:
        pytest.skip("torch is not installed")
    args = arrays(np.random.default_rng(1), *sizes)
    if as_torch:
        args = [torch.from_numpy(a) for a in args]
    with pytest.raises(ValueError, match=r"^@attn: " + message + r".*\(arguments \("):
        flash(*args)


def test_loops_of_linalg_ops_are_checked():
    """A linalg contraction's operands that run over one loop (the reduction K) must agree."""
    kernel = tucker.compile(DYNAMIC_MATMUL)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    assert rel_err(kernel(a, b), a.astype(np.float64) @ b) <= 1e-5
    with pytest.raises(ValueError, match=r"argument 1 \(tensor<\?x4xf32>\) dim 0 is 7 but argument 0 "
                                         r"\(tensor<\?x\?xf32>\) dim 1 is 3; they must be equal: "
                                         r"operands #1 and #0 of 'linalg.matmul' at kernel.mlir:7:8"):
        kernel(a, rng.standard_normal((7, 4)).astype(np.float32))


def descriptor(array):
    """MLIR's memref descriptor of a C-contiguous NumPy array."""
    return compiler._descriptor(array.ctypes.data, array.shape)


def test_the_c_entry_protects_every_caller(flash):
    """Called through the exported symbol with descriptors a C caller made: a static size that
    differs from the type and an output allocated too small are refused, and nothing is written."""
    fn = flash._fn  # the exported _mlir_ciface_attn, returning const char *
    assert fn.restype is ctypes.c_char_p
    q, k, v = arrays(np.random.default_rng(2), 2, 5, 2, 6, 6)
    out = np.full((2, 2, 5, 8), 7.0, np.float32)

    def call(*arrays_):
        descs = [descriptor(a) for a in arrays_]
        return fn(*[ctypes.addressof(d) for d in descs])

    assert call(q, k, v, out) is None
    assert rel_err(out, ref.flash(q, k, v, causal=True)) <= 1e-5

    wide = np.zeros((2, 2, 5, 16), np.float32)  # Dqk 16 where the type says 8
    assert call(wide, k, v, out).decode() == (
        "@attn: argument 0 (tensor<?x2x?x8xf32>) dim 3 is 16, expected 8 (its type)")

    small = np.full((1, 2, 5, 8), 7.0, np.float32)  # an output for one sequence of two
    message = call(q, k, v, small).decode()
    assert message.startswith("@attn: output 0 (tensor<?x2x?x8xf32>) dim 0 is 1 but argument 0 "
                              "(tensor<?x2x?x8xf32>) dim 0 is 2; they must be equal: "), message
    assert (small == 7.0).all()

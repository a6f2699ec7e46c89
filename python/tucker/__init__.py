"""tucker: Tucker attention compiler (Python side).

- `tucker.compile(mlir_text, target="cpu", pipeline_options=None)` -> `Kernel`, callable with NumPy
  arrays or torch CPU tensors (subprocess backend around tucker-compile, ctypes for the call);
- `tucker.from_torch(module, example_x, causal=None, dtype=None, verify=True, static_shapes=False,
  weights="inline", progress=None)` -> MLIR text of the layer, of dynamic batch and sequence length
  (causal None: the module's is_causal; nn.MultiheadAttention, HF attentions with or without
  RoPE (Llama, Qwen2, ViT, BART, CLIP, ...), GPT-2, BERT-style self-attention, HF DeepseekV3
  MLA; verify: the import checked against the module on a few random tokens; see importer.py);
- `tucker.ranks(module_or_mlir, tol=1e-6)`, `tucker.compress(module_or_mlir, ranks=|tol=)` ->
  `CompressResult`: numerical Tucker ranks and truncated-HOSVD compression (analysis.py; a
  module is imported with from_torch's defaults);
  command line: `python -m tucker {compile,ranks,compress}` (__main__.py);
- `tucker.reference`: the float64 NumPy oracle of every op (imported on demand);
- torch >= 2.4: each Kernel is a torch op, `kernel.op` = `torch.ops.tucker.<kernel.op_name>`, with
  a fake implementation from its signature, so `torch.compile(fullgraph=True)` traces models
  that call it (torch_ops.py); `kernel.load()` does a first call's one-time work (CUDA: before
  graph capture);
- `tucker.optimize(model, example_inputs, **options)` -> the model with its attention modules
  swapped for compiled ones (`TuckerAttention`, in place; optimization.py);
- `tucker.flash_attention(q, k, v, causal=False, scale=None, rope=None, lengths=None)`:
  tucker.flash as a differentiable torch function (compiled forward with its log-sum-exp and
  compiled tucker.flash_backward; flash.py).

Tools are looked up in $TUCKER_BUILD_DIR, then the package's own bin/ (pip install), then on PATH,
then in <repo>/build.
"""

from ._tools import CompileError, ToolNotFoundError, find_tool
from .compiler import ArraySpec, Kernel, Signature, compile, from_bf16_bits, to_bf16_bits
from .importer import from_torch
from .analysis import CompressResult, compress, ranks
from .optimization import optimize
from .flash import flash_attention

__all__ = ["compile", "Kernel", "Signature", "ArraySpec", "CompileError", "ToolNotFoundError",
           "find_tool", "to_bf16_bits", "from_bf16_bits", "from_torch", "ranks", "compress", "CompressResult",
           "optimize", "TuckerAttention", "flash_attention"]


def __getattr__(name):  # the nn.Module class is made on first use: torch is optional
    if name == "TuckerAttention":
        from .optimization import TuckerAttention
        return TuckerAttention
    raise AttributeError(f"module 'tucker' has no attribute {name!r}")

"""tucker: Tucker attention compiler (Python side).

- `tucker.compile(mlir_text, target="cpu", pipeline_options=None)` -> `Kernel`, callable with NumPy
  arrays or torch CPU tensors (subprocess backend around tucker-compile, ctypes for the call);
- `tucker.from_torch(module, example_x, causal=None, dtype=None, verify=True)` -> MLIR text of the layer
  (causal None: the module's is_causal; nn.MultiheadAttention, HF attentions with or without
  RoPE (Llama, Qwen2, ViT, BART, CLIP, ...), GPT-2, BERT-style self-attention, HF DeepseekV3
  MLA; verify: the import checked against the module on a few random tokens; see importer.py);
- `tucker.ranks(module_or_mlir, tol=1e-6)`, `tucker.compress(module_or_mlir, ranks=|tol=)` ->
  `CompressResult`: numerical Tucker ranks and truncated-HOSVD compression (analysis.py; a
  module is imported with from_torch's defaults);
  command line: `python -m tucker {compile,ranks,compress}` (__main__.py);
- `tucker.reference`: the float64 NumPy oracle of every op (imported on demand).

Tools are looked up in $TUCKER_BUILD_DIR, then on PATH, then in <repo>/build.
"""

from ._tools import CompileError, ToolNotFoundError, find_tool
from .compiler import ArraySpec, Kernel, Signature, compile, from_bf16_bits, to_bf16_bits
from .importer import from_torch
from .analysis import CompressResult, compress, ranks

__all__ = ["compile", "Kernel", "Signature", "ArraySpec", "CompileError", "ToolNotFoundError",
           "find_tool", "to_bf16_bits", "from_bf16_bits", "from_torch", "ranks", "compress", "CompressResult"]

# -*- Python -*-
import os

import lit.formats
import lit.util
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TUCKER"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tucker_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.md", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", ".so"))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%tucker_lib_dir", config.tucker_lib_dir))

# Captured names must not leak between CHECK-LABEL blocks.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope"

llvm_config.use_default_substitutions()

# This machine may have several LLVMs: use LLVM 22's FileCheck, not, and
# mlir-runner, and our own tools, by absolute path.
tool_dirs = [config.tucker_tools_dir, config.llvm_tools_dir]
tools = ["tucker-opt", "tucker-compile", "mlir-runner", "mlir-opt"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.tucker_tools_dir, append_path=True)

# `sanitized`: the tools are built with ASan + UBSan (-DTUCKER_SANITIZE=ON,
# docs/reliability.md); tests that load our code into an executable that is
# not ours (mlir-opt) are unsupported there.
# C programs that load our libraries are built with %sanitize_cflags: a
# sanitized libTuckerCudaRuntime needs the sanitizer runtime in the executable.
sanitized = lit.util.pythonize_bool(config.tucker_sanitize)
if sanitized:
    config.available_features.add("sanitized")
config.substitutions.append(
    ("%sanitize_cflags", "-fsanitize=address,undefined" if sanitized else ""))

# `cuda`: an sm_90 GPU through the driver, and torch with CUDA for the checks
# (test/Integration/GPU).
def _have_hopper():
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count, major = ctypes.c_int(0), ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0 or count.value < 1:
        return False
    # CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
    if cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, 0) != 0 or major.value != 9:
        return False
    import subprocess
    probe = subprocess.run([config.python_executable, "-c", "import torch; assert torch.cuda.is_available()"],
                           capture_output=True)
    return probe.returncode == 0


if _have_hopper():
    config.available_features.add("cuda")
config.substitutions.append(("%python", config.python_executable))

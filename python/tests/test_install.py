"""Installing tucker: `cmake --install` with the CMake package and the out-of-tree example built
against it, and `pip install` of the repository into a fresh virtual environment.

Both install the existing build (`$TUCKER_BUILD_DIR`, else <repo>/build; nothing of tucker is
rebuilt): `cmake --install` copies it to a temporary prefix, then examples/out-of-tree is
configured with find_package(Tucker), built and run there; the pip test installs the package in
existing-build mode (TUCKER_BUILD_DIR, pyproject.toml) into a venv of this interpreter with its
site packages (numpy, torch), with the build backend pinned in pyproject.toml (scikit-build-core,
from PyPI), and compiles and calls a flash kernel from outside the repository. A missing cmake or
ninja, a build that is not there, a sanitized build (scripts/sanitize.sh) or no way to get the
build backend skips with the reason. About 30 s on two cores, most of it compiling the example
and installing with pip.
"""

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import tucker
from tucker import _tools

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
FLASH_GQA = os.path.join(REPO, "examples", "flash_gqa_bf16.mlir")
# A flash whose 6 query heads do not group over 4 key/value heads: the verifier refuses it.
BAD_FLASH = """\
func.func @bad(%q: tensor<1x6x16x64xf16>, %k: tensor<1x4x16x64xf16>) -> tensor<1x6x16x64xf16> {
  %o = tucker.flash %q, %k, %k : tensor<1x6x16x64xf16>, tensor<1x4x16x64xf16>, tensor<1x4x16x64xf16> -> tensor<1x6x16x64xf16>
  return %o : tensor<1x6x16x64xf16>
}
"""
# What scikit-build-core 1.1.2 needs beyond the standard library (Debian's packaging is too
# old), pinned.
BACKEND_DEPENDENCIES = ["pathspec==1.1.1", "packaging==26.3"]


def _fake_tool(directory, name):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(path, 0o755)
    return path


def test_tool_lookup_prefers_the_build_dir_then_the_package(tmp_path, monkeypatch):
    """$TUCKER_BUILD_DIR, then the package's own bin/ (pip install), then PATH."""
    build = _fake_tool(str(tmp_path / "build" / "bin"), "tucker-opt")
    package = _fake_tool(str(tmp_path / "site" / "tucker" / "bin"), "tucker-opt")
    on_path = _fake_tool(str(tmp_path / "path"), "tucker-opt")
    monkeypatch.setattr(_tools, "_PACKAGE_BIN", str(tmp_path / "site" / "tucker" / "bin"))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setenv("TUCKER_BUILD_DIR", str(tmp_path / "build"))
    assert tucker.find_tool("tucker-opt") == build
    monkeypatch.delenv("TUCKER_BUILD_DIR")
    assert tucker.find_tool("tucker-opt") == package
    os.remove(package)
    assert tucker.find_tool("tucker-opt") == on_path
    os.remove(on_path)
    monkeypatch.setattr(_tools, "_REPO_ROOT", str(tmp_path / "repo"))
    with pytest.raises(tucker.ToolNotFoundError) as info:
        tucker.find_tool("tucker-opt")
    assert "the package's bin (" + str(tmp_path / "site" / "tucker" / "bin") in str(info.value)


def _build_dir():
    """The existing build to install from, or skip saying why it cannot be used."""
    build = os.path.abspath(os.environ.get("TUCKER_BUILD_DIR") or os.path.join(REPO, "build"))
    for name in ("cmake_install.cmake", "bin/tucker-opt", "bin/tucker-compile",
                 "lib/TuckerPlugin.so", "lib/Runtime/libTuckerCudaRuntime.so"):
        if not os.path.exists(os.path.join(build, name)):
            pytest.skip(f"no built tucker in {build} (missing {name}): build it with "
                        "scripts/setup.sh or ninja -C build")
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        if re.search(r"^TUCKER_SANITIZE:BOOL=ON$", f.read(), re.M):
            pytest.skip(f"{build} is the sanitized build: the install tests run on the regular one")
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("the ASan runtime is preloaded (scripts/sanitize.sh): the install tests run in "
                    "the regular test run")
    if not any("TuckerTargets.cmake" in files
               for _, _, files in os.walk(os.path.join(build, "CMakeFiles", "Export"))):
        pytest.fail(f"{build} was configured before cmake/TuckerInstall.cmake: re-run cmake "
                    f"(ninja -C {build} does)")
    return build


def _need(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/setup.sh installs it)")


def _clean_env(**extra):
    """The environment without what points a tucker at the source tree or its build."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TUCKER_BUILD_DIR", "LD_PRELOAD", "ASAN_OPTIONS")}
    env.update(extra)
    return env


def _run(command, timeout, cwd=None, env=None, check=True):
    proc = subprocess.run([str(c) for c in command], cwd=cwd, env=env if env is not None else _clean_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{' '.join(map(str, command))} exited {proc.returncode}:\n{proc.stdout}"
    return proc


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """`cmake --install` of the existing build into a temporary prefix."""
    _need("cmake", "ninja")
    build = _build_dir()
    prefix = tmp_path_factory.mktemp("prefix")
    _run(["cmake", "--install", build, "--prefix", prefix], timeout=120)
    return prefix


def test_cmake_install_layout(prefix):
    for name in ("bin/tucker-opt", "bin/tucker-compile", "lib/libTuckerCudaRuntime.so",
                 "lib/TuckerPlugin.so", "lib/libTuckerIR.a", "lib/libTuckerTransforms.a",
                 "lib/libTuckerPipelines.a",
                 "include/tucker/Dialect/Tucker/IR/TuckerOps.h",
                 "include/tucker/Dialect/Tucker/IR/TuckerOps.h.inc",
                 "include/tucker/Dialect/Tucker/IR/TuckerOps.td",
                 "include/tucker/Conversion/Passes.h.inc",
                 "lib/cmake/tucker/TuckerConfig.cmake", "lib/cmake/tucker/TuckerConfigVersion.cmake",
                 "lib/cmake/tucker/TuckerTargets.cmake"):
        assert (prefix / name).is_file(), name
    assert not list(prefix.rglob("CMakeFiles")), "build-tree folders were installed"
    targets = (prefix / "lib/cmake/tucker/TuckerTargets.cmake").read_text()
    for target in ("Tucker::TuckerIR", "Tucker::TuckerTransforms", "Tucker::TuckerPipelines",
                   "Tucker::TuckerCudaRuntime", "Tucker::tucker-opt"):
        assert f"add_{'executable' if 'tucker-' in target else 'library'}({target} " in targets, target


def test_installed_tools_compile_and_link_the_installed_runtime(prefix, tmp_path):
    """The installed tucker-compile builds CPU libraries, and --target=cuda ones against the
    runtime installed beside it (no GPU needed to link)."""
    cpu = tmp_path / "libflash.so"
    _run([prefix / "bin/tucker-compile", FLASH_GQA, "-o", cpu], timeout=120)
    assert cpu.is_file()
    cuda = tmp_path / "libflash_cuda.so"
    _run([prefix / "bin/tucker-compile", "--target=cuda", FLASH_GQA, "-o", cuda], timeout=120)
    if shutil.which("readelf"):
        dynamic = _run(["readelf", "-d", cuda], timeout=30).stdout
        assert "libTuckerCudaRuntime.so" in dynamic and str(prefix / "lib") in dynamic, dynamic
    mlir_opt = "/usr/lib/llvm-22/bin/mlir-opt"
    if os.path.exists(mlir_opt):
        proc = _run([mlir_opt, f"--load-dialect-plugin={prefix / 'lib/TuckerPlugin.so'}", FLASH_GQA],
                    timeout=60)
        assert "tucker.flash" in proc.stdout


def test_out_of_tree_example_against_the_package(prefix, tmp_path):
    """examples/out-of-tree: find_package(Tucker), link Tucker::TuckerIR, parse and verify."""
    build = tmp_path / "oot"
    _run(["cmake", "-G", "Ninja", "-S", os.path.join(REPO, "examples", "out-of-tree"), "-B", build,
          f"-DCMAKE_PREFIX_PATH={prefix}"], timeout=120)
    _run(["ninja", "-C", build, "-j2"], timeout=240)
    tool = build / "tucker-flash-check"
    proc = _run([tool, FLASH_GQA], timeout=60)
    assert "tucker.flash in @flash_gqa: tensor<?x32x?x128xbf16>" in proc.stdout, proc.stdout
    assert "(4 query heads per key/value head)" in proc.stdout
    assert "1 tucker.flash op(s) verified" in proc.stdout
    bad = tmp_path / "bad.mlir"
    bad.write_text(BAD_FLASH)
    proc = _run([tool, bad], timeout=60, check=False)
    assert proc.returncode == 1, proc.stdout
    assert "error: 'tucker.flash' op" in proc.stdout and "verified" not in proc.stdout, proc.stdout


def _backend_pin():
    with open(os.path.join(REPO, "pyproject.toml")) as f:
        match = re.search(r'requires\s*=\s*\["(scikit-build-core==[0-9.]+)"\]', f.read())
    assert match, "pyproject.toml's build-system.requires is not a pinned scikit-build-core"
    return match.group(1)


CHECK_SCRIPT = textwrap.dedent("""\
    import os, sys
    import numpy as np
    import tucker
    from tucker import reference
    package = os.path.dirname(os.path.abspath(tucker.__file__))
    assert package.startswith(sys.prefix), package
    assert tucker.find_tool("tucker-compile") == os.path.join(package, "bin", "tucker-compile")
    kernel = tucker.compile(open(sys.argv[1]).read())
    rng = np.random.default_rng(0)
    q, k, v = (tucker.to_bf16_bits(rng.standard_normal((1, h, 16, 128)).astype(np.float32))
               for h in (32, 8, 8))
    out = tucker.from_bf16_bits(kernel(q, k, v))
    ref = reference.flash(*(tucker.from_bf16_bits(a) for a in (q, k, v)), causal=True)
    error = float(np.abs(out - ref).max() / np.abs(ref).max())
    assert error < 2e-2, error
    print("ok", out.shape, error)
    """)


def test_pip_install_existing_build(tmp_path):
    """pip install <repo> with TUCKER_BUILD_DIR: import tucker, the tools in the package, the CLI."""
    _need("cmake", "ninja")
    build = _build_dir()
    venv = tmp_path / "venv"
    proc = _run([sys.executable, "-m", "venv", "--system-site-packages", venv], timeout=120, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot create a virtual environment with {sys.executable}: {proc.stdout[-500:]}")
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    proc = _run(pip + ["install", "-q", _backend_pin()] + BACKEND_DEPENDENCIES, timeout=180, check=False)
    if proc.returncode != 0:
        last = proc.stdout.strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"the build backend cannot be installed (PyPI not reachable?): {last[0]}")
    _run(pip + ["install", "-q", "--no-build-isolation", "--no-deps", REPO], timeout=240,
         env=_clean_env(TUCKER_BUILD_DIR=build))
    site = _run([python, "-c", "import tucker, os; print(os.path.dirname(tucker.__file__))"],
                timeout=60, cwd=tmp_path).stdout.strip()
    for name in ("bin/tucker-opt", "bin/tucker-compile", "lib/libTuckerCudaRuntime.so",
                 "lib/TuckerPlugin.so"):
        assert os.path.isfile(os.path.join(site, name)), name

    # From outside the repository, with no build on PATH or in the environment.
    script = tmp_path / "check.py"
    script.write_text(CHECK_SCRIPT)
    env = _clean_env(PATH=os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"]))
    proc = _run([python, script, FLASH_GQA], timeout=180, cwd=tmp_path, env=env)
    assert proc.stdout.startswith("ok (1, 32, 16, 128)"), proc.stdout
    proc = _run([venv / "bin" / "tucker", "compile", os.path.join(REPO, "examples", "mha_layer.mlir"),
                 "-o", tmp_path / "libmha.so"], timeout=180, cwd=tmp_path, env=env)
    assert (tmp_path / "libmha.so").is_file() and "_mlir_ciface_mha_layer" in proc.stdout, proc.stdout

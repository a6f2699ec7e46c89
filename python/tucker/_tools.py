"""Finding and running the tucker command-line tools (the subprocess backend).

Lookup order for a tool (tucker-compile, tucker-opt): $TUCKER_BUILD_DIR (its bin/, then the
directory itself), then the package's own bin/ (where `pip install` puts the tools, next to this
file), then PATH, then <repo>/build/bin of the source tree this package sits in.
"""

import os
import shutil
import subprocess

__all__ = ["CompileError", "ToolNotFoundError", "find_tool", "run_tool"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_PACKAGE_BIN = os.path.join(_PACKAGE_DIR, "bin")
_REPO_ROOT = os.path.abspath(os.path.join(_PACKAGE_DIR, os.pardir, os.pardir))


class CompileError(RuntimeError):
    """A tucker tool failed. Carries the command, its exit code and its full output (the MLIR
    diagnostics are in `diagnostics`)."""

    def __init__(self, message, command=None, returncode=None, stdout="", stderr=""):
        self.message = message
        self.command = list(command) if command is not None else None
        self.returncode = returncode
        self.stdout = stdout or ""
        self.stderr = stderr or ""
        super().__init__(str(self))

    @property
    def diagnostics(self):
        """Everything the tool printed: stderr, then stdout if any."""
        return self.stderr + (("\n" + self.stdout) if self.stdout.strip() else "")

    def __str__(self):
        parts = [self.message]
        if self.command is not None:
            parts.append("command: " + " ".join(_quote(a) for a in self.command))
        if self.returncode is not None:
            parts.append(f"exit code: {self.returncode}")
        if self.diagnostics.strip():
            parts.append(self.diagnostics.rstrip())
        return "\n".join(parts)


class ToolNotFoundError(CompileError):
    """No executable of a tucker tool was found where the lookup order says to look."""


def _quote(arg):
    return arg if arg and all(c.isalnum() or c in "-_=./,:+" for c in arg) else repr(arg)


def _candidates(name):
    build = os.environ.get("TUCKER_BUILD_DIR")
    if build:
        yield "$TUCKER_BUILD_DIR/bin", os.path.join(build, "bin", name)
        yield "$TUCKER_BUILD_DIR", os.path.join(build, name)
    yield "the package's bin", os.path.join(_PACKAGE_BIN, name)
    on_path = shutil.which(name)
    yield "PATH", on_path
    yield "<repo>/build/bin", os.path.join(_REPO_ROOT, "build", "bin", name)


def find_tool(name):
    """Absolute path of tool `name`; raises ToolNotFoundError naming every place it looked."""
    looked = []
    for where, path in _candidates(name):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
        looked.append(f"{where} ({path})" if path else where)
    raise ToolNotFoundError(
        f"cannot find {name}: looked in " + ", ".join(looked)
        + ". Build it (ninja -C <build> " + name + ") and set TUCKER_BUILD_DIR=<build> or put it on PATH,"
        " or install the package with its tools (pip install <repo>)")


def run_tool(name, args, *, what=None):
    """Runs tool `name` with `args`; raises CompileError with the command, exit code and output
    unless it exits with 0. Returns the CompletedProcess."""
    command = [find_tool(name)] + [str(a) for a in args]
    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        raise CompileError(f"cannot run {name}: {e}", command=command) from e
    if proc.returncode != 0:
        raise CompileError(what or f"{name} failed", command=command, returncode=proc.returncode,
                           stdout=proc.stdout, stderr=proc.stderr)
    return proc

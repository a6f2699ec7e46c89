#!/usr/bin/env python3
"""Smoke test of tucker's CUDA runtime library on a machine with a GPU: the
error paths must give clear messages (call, CUresult name and text, context)
and never abort. Uses no torch. Run from the repository root:
  python3 bench/gpu/runtime_smoke.py
Prints one line per case and 'N passed, N failed'."""
import ctypes
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
lib = ctypes.CDLL(os.path.join(HERE, "out", "libTuckerCudaRuntime.so"))
lib.tuckerCudaGetLastError.restype = ctypes.c_char_p
vp = ctypes.c_void_p
# Every 64-bit argument needs argtypes: ctypes passes a bare Python int as a
# 32-bit int (a device pointer passed that way is truncated).
lib.tuckerCudaInit.argtypes = [ctypes.c_int, ctypes.POINTER(vp)]
lib.tuckerCudaComputeCapability.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                                            ctypes.POINTER(ctypes.c_int)]
lib.tuckerCudaModuleLoadData.argtypes = [vp, ctypes.c_size_t, ctypes.POINTER(vp)]
lib.tuckerCudaModuleGetFunction.argtypes = [vp, ctypes.c_char_p, ctypes.POINTER(vp)]
lib.tuckerCudaMalloc.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_size_t]
lib.tuckerCudaFree.argtypes = [ctypes.c_uint64]
passed = failed = 0


def msg():
    return lib.tuckerCudaGetLastError().decode()


def case(name, rc, want_ok, must_contain=()):
    global passed, failed
    text = msg() if rc != 0 else ""
    lib.tuckerCudaClearError()
    ok = (rc == 0) == want_ok and all(s in text for s in must_contain)
    passed += ok
    failed += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}: rc={rc} {text!r}")


ctx = vp()
case("init device 0", lib.tuckerCudaInit(0, ctypes.byref(ctx)), True)
case("init device 99", lib.tuckerCudaInit(99, ctypes.byref(ctx)), False, ["device 99"])
major, minor = ctypes.c_int(), ctypes.c_int()
case("compute capability", lib.tuckerCudaComputeCapability(0, ctypes.byref(major), ctypes.byref(minor)), True)
print(f"     sm_{major.value}{minor.value}")

mod = vp()
junk = b"this is not PTX\x00"
case("load junk PTX", lib.tuckerCudaModuleLoadData(junk, len(junk), ctypes.byref(mod)), False,
     ["cuModuleLoadDataEx", "CUDA_ERROR"])
with open(os.path.join(HERE, "out", "flash_fwd_d128.cubin"), "rb") as fh:
    image = fh.read()
buf = ctypes.create_string_buffer(image, len(image))
case("load cubin", lib.tuckerCudaModuleLoadData(buf, len(image), ctypes.byref(mod)), True)
fn = vp()
case("missing kernel", lib.tuckerCudaModuleGetFunction(mod, b"no_such_kernel", ctypes.byref(fn)), False,
     ["cuModuleGetFunction", "CUDA_ERROR_NOT_FOUND", "no_such_kernel"])
import json
name = next(iter(json.load(open(os.path.join(HERE, "out", "flash_fwd_d128.json")))))
case(f"get {name}", lib.tuckerCudaModuleGetFunction(mod, name.encode(), ctypes.byref(fn)), True)
lib.tuckerCudaLaunch.argtypes = [vp] + [ctypes.c_uint] * 7 + [vp, ctypes.POINTER(vp)]
case("launch with 300 KB of shared memory",
     lib.tuckerCudaLaunch(fn, 1, 1, 1, 128, 1, 1, 300 * 1024, None, None), False,
     ["MAX_DYNAMIC_SHARED_SIZE_BYTES", "CUDA_ERROR"])
case("launch with 2048 threads",
     lib.tuckerCudaLaunch(fn, 1, 1, 1, 2048, 1, 1, 0, None, None), False, ["cuLaunchKernel", "CUDA_ERROR"])
mp = ctypes.c_uint64()
case("malloc 1 MiB", lib.tuckerCudaMalloc(ctypes.byref(mp), 1 << 20), True)
tm = ctypes.create_string_buffer(256)
aligned = (ctypes.addressof(tm) + 63) & ~63
dims = (ctypes.c_uint64 * 2)(128, 4096)
strides = (ctypes.c_uint64 * 1)(256)
box = (ctypes.c_uint32 * 2)(64, 128)
lib.tuckerCudaEncodeTiledTensorMap.argtypes = [vp, ctypes.c_int, ctypes.c_uint, ctypes.c_uint64,
                                               vp, vp, vp, vp, ctypes.c_int, ctypes.c_int,
                                               ctypes.c_int, ctypes.c_int]
case("tensor map ok", lib.tuckerCudaEncodeTiledTensorMap(vp(aligned), 9, 2, mp.value, dims, strides, box,
                                                         None, 0, 3, 2, 0), True)
case("tensor map unaligned address", lib.tuckerCudaEncodeTiledTensorMap(
    vp(aligned), 9, 2, mp.value + 8, dims, strides, box, None, 0, 3, 2, 0), False, ["16-byte aligned"])
box2 = (ctypes.c_uint32 * 2)(128, 128)
case("tensor map box wider than swizzle", lib.tuckerCudaEncodeTiledTensorMap(
    vp(aligned), 9, 2, mp.value, dims, strides, box2, None, 0, 3, 2, 0), False, ["swizzle span"])
case("free", lib.tuckerCudaFree(mp.value), True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

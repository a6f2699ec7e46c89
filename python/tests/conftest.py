import os
import sys

# The tests import the package from the source tree (python/tucker) without installing it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

# The kernels the tests compile check numerics, not speed: LLVM -O2 compiles them 3-4x faster
# than tucker-compile's default -O3 (the lit suite's executed kernels keep -O3).
os.environ.setdefault("TUCKER_OPT_LEVEL", "2")

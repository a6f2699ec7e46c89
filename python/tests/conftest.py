import os
import sys

# The tests import the package from the source tree (python/tucker) without installing it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

"""Thin absl entry points: flags -> config -> training run.

TensorFlow's C++ INFO/WARNING lines are hidden unless TF_CPP_MIN_LOG_LEVEL is set already.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

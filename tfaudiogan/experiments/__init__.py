"""Thin absl entry points: flags -> config -> recipe run through the training driver.

Run as ``python -m tfaudiogan.experiments.<name>``, the console stays quiet: TensorFlow's C++
INFO/WARNING lines are hidden (``TF_CPP_MIN_LOG_LEVEL=2`` unless set) and its known-harmless
native notices are filtered out of stderr before TensorFlow is imported
(tfaudiogan/console.py); ``--verbose`` keeps all of it.
"""

import os
import sys

if sys.argv[:1] == ["-m"] and "--verbose" not in sys.argv:  # python -m tfaudiogan.experiments.*
    from tfaudiogan.console import filter_native_stderr

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    filter_native_stderr()

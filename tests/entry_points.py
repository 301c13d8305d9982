"""Running an experiment's ``main`` (flags -> config -> run) inside the test process."""

import contextlib
import importlib
import io

from absl import flags

from tfaudiogan.experiments import common

FLAGS = flags.FLAGS


def entry_point(module, *args):
    """Runs ``python -m tfaudiogan.experiments.<module> args`` in this process (no TF start-up
    cost): (exit code, stdout, stderr). Every experiment's config family is named like its
    module; a module's ``run_or_moments`` (SpecGAN's ``--moments_only``) is used when it has
    one."""
    entry = importlib.import_module(f"tfaudiogan.experiments.{module}")
    run = getattr(entry, "run_or_moments", getattr(entry, "run", None))
    common.define_flags()
    FLAGS.unparse_flags()
    FLAGS([module, *args])
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            common.main_for(module, run)([module])
    except SystemExit as stop:
        code = stop.code
    finally:
        FLAGS.unparse_flags()
    return code, out.getvalue(), err.getvalue()

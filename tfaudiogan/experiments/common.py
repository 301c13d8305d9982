"""Flags and the error policy shared by every experiment entry point.

Every experiment accepts ``--data_dir --model_dir --preset --strategy --steps --backup_every
--set --export --strict --verbose --deterministic --jit_compile --precision``. ``--preset``
defaults to ``paper`` when ``--data_dir`` is given, else ``demo``.
Bad input (missing data, unreadable files, bad flags, an unusable run directory) ends with one
line on stderr and exit code 2, never a traceback; a run stopped by a non-finite loss ends with
one line and exit code 1.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Callable

from absl import app, flags
from absl import logging as absl_logging

from tfaudiogan import configs
from tfaudiogan.configs.base import default_model_dir
from tfaudiogan.training.callbacks import NonFiniteLossError

FLAGS = flags.FLAGS


SHARED_FLAGS = ("data_dir", "model_dir", "preset", "strategy", "steps", "backup_every", "set",
                "export", "strict", "verbose", "deterministic", "jit_compile", "precision")


def define_flags(family: str | None = None) -> None:
    """Defines the common flags (once per process) and lists them in ``--help``.

    Args:
        family: the experiment's config family; its preset names go into ``--preset``'s help.
    """
    if "preset" not in FLAGS:
        _define_shared_flags()
    if family is not None:
        FLAGS["preset"].help = (f"{' | '.join(configs.preset_names(family))} (default: paper "
                                "with --data_dir, else demo).")
    for name in SHARED_FLAGS:  # --help shows the key flags of the program's main module
        FLAGS.register_key_flag_for_module(sys.argv[0], FLAGS[name])


def _define_shared_flags() -> None:
    flags.DEFINE_string("data_dir", None, "Dataset root. Without it the built-in data is used; "
                        "with it every preset reads it (demo/smoke: demo-size networks on the "
                        "paper's data settings).")
    flags.DEFINE_string("model_dir", None, "Run directory (default runs/<experiment>/<preset>). "
                        "Re-running with the same directory resumes.")
    flags.DEFINE_string("preset", None, "paper | demo | smoke (default: paper with --data_dir, "
                        "else demo).")
    flags.DEFINE_enum("strategy", "auto", ["auto", "default", "mirrored", "multi_worker"],
                      "tf.distribute strategy.")
    flags.DEFINE_integer("steps", None, "Training steps per epoch (sets train.steps_per_epoch).")
    flags.DEFINE_integer("backup_every", None, "Steps between two backups of the run in "
                         "progress (sets train.backup_every_steps; 0: epoch ends only). A "
                         "killed run resumes at the newest backup's step.")
    flags.DEFINE_multi_string("set", [], "Config override section.field=value (repeatable).")
    flags.DEFINE_boolean("export", True, "Export SavedModel + TFLite after training.")
    flags.DEFINE_boolean("strict", False, "Stop at the first unreadable audio file instead of "
                         "skipping it.")
    flags.DEFINE_boolean("deterministic", False, "Turn on TensorFlow op determinism and run "
                         "independent ops one at a time, TensorFloat-32 off (some ops slower; "
                         "the GANSynth demo still varies in its last stage).")
    flags.DEFINE_enum("jit_compile", "auto", ["auto", "on", "off"], "XLA for the train step "
                      "(auto: Keras' choice, on where a GPU is visible).")
    flags.DEFINE_enum("precision", "float32", ["float32", "mixed"], "Compute precision: mixed "
                      "= mixed_float16 with loss scaling where a GPU is visible, else "
                      "mixed_bfloat16; variables, losses, spectral front ends, synthesis and "
                      "exports stay float32.")
    flags.DEFINE_boolean("verbose", False, "Show TensorFlow's own log lines (native notices, "
                         "tracing and export INFO) on the console.")


def resolve_config(family: str):
    """The config selected by the flags (preset, then --data_dir, --steps/--strict, --set)."""
    preset = FLAGS.preset or ("paper" if FLAGS.data_dir else "demo")
    config = configs.get_preset(family, preset)
    if FLAGS.data_dir:  # never ignored: a built-in-data preset takes the paper's data section
        paper = configs.get_preset(family, "paper")  # (a preset reading files keeps its own)
        if config.data.dataset == "synthetic" and paper.data.dataset != "synthetic":
            config = dataclasses.replace(config, data=paper.data)
    extra = []
    if FLAGS.steps is not None:
        if FLAGS.steps <= 0:
            raise ValueError(f"--steps must be positive, got {FLAGS.steps}")
        extra.append(f"train.steps_per_epoch={FLAGS.steps}")
    if FLAGS.backup_every is not None:
        if FLAGS.backup_every < 0:
            raise ValueError(f"--backup_every must be 0 or more, got {FLAGS.backup_every}")
        extra.append(f"train.backup_every_steps={FLAGS.backup_every}")
    if FLAGS.strict:
        extra.append("data.strict=true")
    return configs.apply_overrides(config, extra + list(FLAGS.set)), preset


def main_for(family: str, run: Callable) -> Callable:
    """Builds an absl ``main`` that resolves the config and calls ``run``.

    ``run(config, model_dir, data_dir, strategy, export, deterministic=, jit_compile=,
    precision=, preset=)``
    does the work.
    """

    def main(argv):
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
        if not FLAGS.verbose:  # TensorFlow's Python-side INFO (export chatter); ours is stdout
            absl_logging.set_verbosity(absl_logging.WARNING)
            logging.getLogger("tensorflow").setLevel(logging.WARNING)
        try:
            config, preset = resolve_config(family)
            if FLAGS.data_dir is not None and not os.path.isdir(FLAGS.data_dir):
                raise FileNotFoundError(f"data directory '{FLAGS.data_dir}' does not exist")
            model_dir = FLAGS.model_dir or default_model_dir(family, preset)
            run(config, model_dir, FLAGS.data_dir, FLAGS.strategy, FLAGS.export,
                deterministic=FLAGS.deterministic, jit_compile=FLAGS.jit_compile,
                precision=FLAGS.precision, preset=preset)
        except (ValueError, FileNotFoundError, NotADirectoryError, PermissionError) as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        except NonFiniteLossError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)

    return main


def launch(family: str, run: Callable) -> None:
    """``python -m tfaudiogan.experiments.<family>`` entry."""
    define_flags(family)
    app.run(main_for(family, run))

"""The one skip-bad-file policy of every dataset reader (DESIGN.md "Data").

A file that cannot be decoded (truncated, empty, not audio, NaN samples: any
:class:`~tfaudiogan.audio.io.AudioDecodeError`) never crashes a run silently:

* by default it is skipped with one warning in the format :data:`SKIP_MESSAGE`, which names
  the file and the reason, and it is counted;
* after a pass over ``total`` files, :meth:`SkipPolicy.finish` logs :data:`SUMMARY_MESSAGE`
  (``"skipped N of M files (could not decode)"``) when any was skipped, and raises when every
  file failed;
* with ``strict=True`` the first error is raised instead.

Used by :func:`~tfaudiogan.data.audio_files.load_clips` (IRMAS, two folders, SC09),
:func:`~tfaudiogan.data.slices.folder_slices` and the json+wav NSynth reader. Only
:class:`AudioDecodeError` is caught: any other exception is a bug and propagates.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from tfaudiogan.audio.io import AudioDecodeError, load_audio

__all__ = ["SKIP_MESSAGE", "SUMMARY_MESSAGE", "SkipPolicy"]

_LOG = logging.getLogger(__name__)

SKIP_MESSAGE = "skipping bad file '%s': %s"  # path, reason
SUMMARY_MESSAGE = "skipped %d of %d files (could not decode)"  # skipped, total


class SkipPolicy:
    """Skip-or-raise for undecodable files, with one log format and a count.

    Thread-safe: the NSynth reader decodes in a parallel ``tf.data`` map.

    Args:
        strict: raise the first :class:`AudioDecodeError` instead of skipping the file.
        log: logger for the per-file warnings and the summary line.

    Attributes:
        skipped: ``[(path, message), ...]`` of every skipped file, in the order seen;
            ``message`` is ``str(error)`` (it names the file and the reason).
    """

    def __init__(self, strict: bool = False, log: logging.Logger = _LOG):
        self.strict = strict
        self.log = log
        self.skipped: list[tuple[Path, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.skipped)

    def skip(self, path: str | os.PathLike, error: AudioDecodeError) -> None:
        """Records a bad file: raises ``error`` if ``strict``, else warns and counts it.

        Args:
            path: the file.
            error: why it failed; its ``reason`` (or its message) goes into the warning.

        Raises:
            AudioDecodeError: ``error`` itself, when ``strict``.
        """
        if self.strict:
            raise error
        reason = getattr(error, "reason", None) or str(error)
        self.log.warning(SKIP_MESSAGE, os.fspath(path), reason)
        with self._lock:
            self.skipped.append((Path(path), str(error)))

    def decode(self, path: str | os.PathLike, sample_rate: int | None) -> np.ndarray | None:
        """``load_audio(path, sample_rate, mono=True)``, or None when the file was skipped.

        Returns:
            float32 ``[samples]`` at ``sample_rate``, or None (see :meth:`skip`).

        Raises:
            AudioDecodeError: ``strict`` and the file cannot be decoded.
        """
        try:
            return load_audio(path, sample_rate, mono=True)
        except AudioDecodeError as err:
            self.skip(path, err)
            return None

    def finish(self, total: int, where: str) -> None:
        """Logs the summary line after a pass over ``total`` files; fails if all were bad.

        Args:
            total: number of files the pass tried.
            where: how to name them in the error, e.g. ``"'<folder>'"``.

        Raises:
            ValueError: every one of ``total`` (>= 1) files was skipped; the message gives
                ``where`` and the first error.
        """
        if self.skipped:
            self.log.warning(SUMMARY_MESSAGE, len(self.skipped), total)
        if total and len(self.skipped) >= total:
            raise ValueError(f"all {total} audio files in {where} failed to decode; "
                             f"first error: {self.skipped[0][1]}")

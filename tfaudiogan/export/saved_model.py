"""Versioned SavedModel directories in the TF Serving layout, written from an ExportArchive.

Layout (reference/ecosystem.md section 3.2)::

    <base_dir>/<integer version>/saved_model.pb
                                 fingerprint.pb
                                 variables/ assets/
                                 tfaudiogan.json      <- sidecar metadata (ignored by TF Serving)

TF Serving serves the highest integer version by default and ignores every file it does not
know, so the sidecar travels with the model without affecting it. Only
``keras.export.ExportArchive`` is used: a Keras 3 model attached to a plain ``tf.Module`` loads
with ``tf.saved_model.load`` but fails in the TF1 loader the server uses and turns into an
all-NaN TFLite model (reference/ecosystem.md section 2.2).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import keras

METADATA_FILE = "tfaudiogan.json"


def _integer_versions(base_dir: Path) -> list[int]:
    """Integer-named sub-directories of ``base_dir`` (the TF Serving versions), unsorted."""
    if not base_dir.is_dir():
        return []
    versions = []
    for child in base_dir.iterdir():
        if child.is_dir() and child.name.isdigit():
            versions.append(int(child.name))
    return versions


def latest_version(base_dir: str | os.PathLike) -> int | None:
    """The highest integer version under ``base_dir`` (what TF Serving serves), or None."""
    versions = _integer_versions(Path(base_dir))
    return max(versions) if versions else None


def next_version(base_dir: str | os.PathLike) -> int:
    """1 + the highest integer sub-directory of ``base_dir``; 1 when there is none.

    Non-integer names (``tmp``, ``1.bak``, files) are ignored, as TF Serving ignores them.
    """
    latest = latest_version(base_dir)
    return 1 if latest is None else latest + 1


def _to_json(value: Any) -> Any:
    """Makes paths, tuples and numpy scalars JSON-serialisable (used as ``json`` default)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"metadata value of type {type(value).__name__} is not JSON-serialisable")


def write_archive(archive: keras.export.ExportArchive, base_dir: str | os.PathLike,
                  version: int | None = None, metadata: dict | None = None) -> Path:
    """Writes ``archive`` to ``base_dir/<version>/`` plus the ``tfaudiogan.json`` sidecar.

    The archive is first written to a hidden temporary directory inside ``base_dir`` and renamed
    into place, so a crash never leaves a half-written integer version that TF Serving would
    try to load.

    Args:
        archive: an ExportArchive with its endpoints added and its models tracked.
        base_dir: the model's base path (``saved_models/<model_name>``); created if missing.
        version: integer version; default :func:`next_version`.
        metadata: JSON-serialisable dict stored in ``tfaudiogan.json`` (sample rate, signature
            names, domains, config, ...). ``version`` is added to it.

    Returns:
        The version directory.

    Raises:
        FileExistsError: ``base_dir/<version>`` already exists (never overwritten).
        ValueError: ``version`` is not a positive integer.
    """
    base = Path(base_dir)
    if version is None:
        version = next_version(base)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer; got {version!r}")
    target = base / str(version)
    if target.exists():
        raise FileExistsError(
            f"SavedModel version {version} already exists at '{target}'; refusing to overwrite "
            f"it (the next free version is {next_version(base)})")
    base.mkdir(parents=True, exist_ok=True)
    meta = dict(metadata or {})
    meta["version"] = version
    meta_text = json.dumps(meta, indent=2, sort_keys=True, default=_to_json) + "\n"

    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base))
    try:
        staged = tmp / "model"
        archive.write_out(str(staged), verbose=False)
        (staged / METADATA_FILE).write_text(meta_text)
        if target.exists():  # another writer won the race while we were exporting
            raise FileExistsError(f"SavedModel version {version} appeared at '{target}' while "
                                  "exporting; refusing to overwrite it")
        os.replace(staged, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def export_saved_model(archive: keras.export.ExportArchive, base_dir: str | os.PathLike,
                       version: int | None = None, metadata: dict | None = None) -> Path:
    """Public name from DESIGN.md for :func:`write_archive` (same arguments and result)."""
    return write_archive(archive, base_dir, version=version, metadata=metadata)


def read_metadata(version_dir: str | os.PathLike) -> dict:
    """The ``tfaudiogan.json`` sidecar of a version directory.

    Raises:
        FileNotFoundError: the directory has no sidecar (not written by :func:`write_archive`).
    """
    path = Path(version_dir) / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {METADATA_FILE} in '{version_dir}': not a tfaudiogan export")
    return json.loads(path.read_text())


def resolve_version_dir(model_dir: str | os.PathLike) -> Path:
    """``model_dir`` itself if it holds ``saved_model.pb``, else its highest integer version.

    Raises:
        FileNotFoundError: neither a SavedModel nor a base dir with integer versions.
    """
    path = Path(model_dir)
    if (path / "saved_model.pb").is_file():
        return path
    latest = latest_version(path)
    if latest is None:
        raise FileNotFoundError(
            f"'{path}' is neither a SavedModel directory nor a base directory with integer "
            "version sub-directories")
    return path / str(latest)

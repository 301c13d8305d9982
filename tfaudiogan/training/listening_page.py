"""``samples/index.html``: every sample of a run on one page, to listen and look.

Each sample writer (CycleGAN, WaveGAN / SpecGAN, GANSynth, DDSP-GAN) calls
:func:`add_section` after writing one epoch's (or one GANSynth stage's) files. The section is
kept beside its files as ``section.json``, and the page is rewritten from all of them, so a
resumed run's page still lists the earlier sessions' samples. The page is self-contained:
inline CSS, no script, no network, links relative to ``samples/`` only; the newest section
comes first and every row puts its audio players beside its pictures.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

__all__ = ["PAGE", "SECTION_FILE", "Row", "add_section", "write_page"]

PAGE = "index.html"
SECTION_FILE = "section.json"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.note { color: #666; margin-top: 0; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1em;
          margin: 1em 0; }
h2 { font-size: 1.15em; }
.row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start;
       border-top: 1px solid #eee; padding: 0.8em 0; }
.sounds { flex: 0 0 300px; }
.sounds h3 { font-size: 1em; margin: 0 0 0.4em; }
.sounds figure { margin: 0 0 0.6em; }
.sounds figcaption { font-size: 0.85em; color: #555; }
.sounds audio { width: 290px; }
.pictures { flex: 1 1 600px; min-width: 0; display: flex; gap: 0.5em; align-items: flex-start; }
.pictures img { flex: 0 1 auto; min-width: 0; max-width: 100%; height: auto;
                border: 1px solid #eee; }
"""


@dataclasses.dataclass
class Row:
    """One clip (or one translation cycle) of a section.

    Attributes:
        title: what the row shows, e.g. ``"sample_0"``.
        audio: ``(caption, file name)`` of each player, files in the section's folder.
        images: file names of the pictures, in the section's folder.
    """

    title: str
    audio: Sequence[tuple[str, str]] = ()
    images: Sequence[str] = ()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def add_section(samples_dir, folder, heading: str, order: float,
                rows: Sequence[Row]) -> Path:
    """Records the section of ``folder`` and rewrites the page.

    Args:
        samples_dir: the run's ``samples/`` directory (the page's folder).
        folder: the section's folder inside ``samples_dir`` (its files are named by ``rows``).
        heading: e.g. ``"epoch 3"`` or ``"stage 2"``.
        order: sections are listed by decreasing order (the epoch or stage number).
        rows: the clips of the section.

    Returns:
        The page ``samples_dir/index.html``.
    """
    folder = Path(folder)
    section = {"heading": heading, "order": order,
               "rows": [{"title": r.title, "audio": [list(a) for a in r.audio],
                         "images": list(r.images)} for r in rows]}
    _write_atomic(folder / SECTION_FILE, json.dumps(section, indent=1) + "\n")
    return write_page(samples_dir)


def _sections(samples_dir: Path) -> list[tuple[str, dict]]:
    found = []
    for path in samples_dir.glob(f"*/{SECTION_FILE}"):
        try:
            section = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # unreadable (e.g. edited by hand): leave it out
            continue
        if isinstance(section, dict) and {"heading", "order", "rows"} <= set(section):
            found.append((path.parent.name, section))
    return sorted(found, key=lambda item: (-float(item[1]["order"]), item[0]))


def _link(folder: str, name: str) -> str:
    return html.escape(quote(f"{folder}/{name}"))


def _row(folder: str, row: dict) -> str:
    sounds = "".join(
        f'<figure><figcaption>{html.escape(caption)}</figcaption>'
        f'<audio controls preload="none" src="{_link(folder, name)}"></audio></figure>'
        for caption, name in row["audio"])
    pictures = "".join(f'<img src="{_link(folder, name)}" alt="{html.escape(name)}">'
                       for name in row["images"])
    return (f'<div class="row"><div class="sounds"><h3>{html.escape(row["title"])}</h3>'
            f'{sounds}</div><div class="pictures">{pictures}</div></div>')


def write_page(samples_dir) -> Path:
    """Rewrites ``samples_dir/index.html`` from every section recorded there.

    Returns:
        The page's path.
    """
    samples_dir = Path(samples_dir)
    sections = _sections(samples_dir)
    run_name = samples_dir.resolve().parent.name
    body = "\n".join(
        f'<section id="{html.escape(folder)}"><h2>{html.escape(s["heading"])} '
        f'<small>({html.escape(folder)}/)</small></h2>'
        + "".join(_row(folder, row) for row in s["rows"]) + "</section>"
        for folder, s in sections)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Samples of {html.escape(run_name)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>Samples of {html.escape(run_name)}</h1>"
            f'<p class="note">{len(sections)} sample set(s), newest first. Rewritten after '
            f"every sample write.</p>\n{body}\n</body></html>\n")
    path = samples_dir / PAGE
    _write_atomic(path, page)
    return path

"""The listening page of real smoke runs (CycleGAN and DDSP-GAN) in headless Chromium.

Every ``<audio>`` and ``<img>`` source must be a relative path to a file that exists and
decodes; Chromium must parse the page into the same elements (``--dump-dom``) and render it
with its plots (``--screenshot``: a page without its pictures has a few hundred colours, the
rendered plots thousands). .ci/run installs Debian's ``chromium`` package.
"""

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import matplotlib.image
import numpy as np
import pytest
import soundfile as sf

from tfaudiogan import configs
from tfaudiogan.configs.ddsp_gan import FAMILY
from tfaudiogan.recipes import ddsp_gan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's package)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _Media(HTMLParser):
    """Collects ``(tag, src)`` of every audio and img element."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("audio", "img"):
            self.found.append((tag, dict(attrs).get("src")))


def _media(text: str) -> list[tuple[str, str]]:
    parser = _Media()
    parser.feed(text)
    return parser.found


def _chromium(page: Path, profile: Path, *flags: str) -> str:
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *flags,
                           page.resolve().as_uri()], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def ddsp_run(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("ddsp_page")
    ddsp_gan.run(configs.get_preset(FAMILY, "smoke"), model_dir, export=False)
    return model_dir


@pytest.fixture(params=["cyclegan", "ddsp_gan"])
def page(request) -> Path:
    model_dir = (request.getfixturevalue("smoke_run")[0] if request.param == "cyclegan"
                 else request.getfixturevalue("ddsp_run"))
    return model_dir / "samples" / "index.html"


def test_every_player_and_picture_is_a_relative_link_to_a_real_file(page):
    text = page.read_text()
    media = _media(text)
    assert text.index("<h2>epoch 2") < text.index("<h2>epoch 1")  # two smoke epochs, newest first
    assert {tag for tag, _ in media} == {"audio", "img"}
    folders = {src.split("/")[0] for _, src in media}
    assert len(folders) == 2 and all(name.startswith("epoch_") for name in folders)
    for tag, src in media:
        assert src and not src.startswith(("/", "file:", "http")) and ".." not in src, src
        path = page.parent / unquote(src)
        assert path.is_file() and path.stat().st_size > 0, src
        if tag == "audio":
            audio, _ = sf.read(path)
            assert len(audio) > 0
        else:
            assert matplotlib.image.imread(path).shape[0] > 100


def test_chromium_parses_and_renders_the_page_with_its_plots(page, tmp_path):
    dom = _chromium(page, tmp_path / "profile", "--dump-dom")
    assert _media(dom) == _media(page.read_text())
    shot = tmp_path / "page.png"
    _chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000",
              "--hide-scrollbars")
    pixels = (matplotlib.image.imread(shot)[..., :3] * 255).astype(np.uint8)
    assert pixels.shape[:2] == (2000, 1200)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 2000

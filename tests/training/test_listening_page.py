"""samples/index.html: sections newest first, relative links, self-contained, kept on resume."""

import re

from tfaudiogan.training.listening_page import SECTION_FILE, Row, add_section, write_page


def _section(samples, name, heading, order, stem="sample_0"):
    folder = samples / name
    folder.mkdir(parents=True)
    for suffix in (".wav", ".png"):
        (folder / f"{stem}{suffix}").write_bytes(b"x")
    return add_section(samples, folder, heading, order,
                       [Row(stem, [("real piano", f"{stem}.wav")], [f"{stem}.png"])])


def test_sections_are_listed_newest_first_with_players_beside_pictures(tmp_path):
    samples = tmp_path / "my_run" / "samples"
    _section(samples, "epoch_0001", "epoch 1", 1)
    _section(samples, "epoch_0010", "epoch 10", 10)
    page = _section(samples, "epoch_0002", "epoch 2", 2)
    assert page == samples / "index.html"
    text = page.read_text()
    headings = re.findall(r"<h2>(.*?) <small>", text)
    assert headings == ["epoch 10", "epoch 2", "epoch 1"]  # by number, not by name
    assert "<title>Samples of my_run</title>" in text
    assert '<audio controls preload="none" src="epoch_0002/sample_0.wav"></audio>' in text
    assert '<img src="epoch_0002/sample_0.png" alt="sample_0.png">' in text
    assert "<figcaption>real piano</figcaption>" in text
    row = text.split('<div class="row">')[1]
    assert row.index("<audio") < row.index('<div class="pictures">') < row.index("<img")


def test_page_is_self_contained_and_links_only_files_that_exist(tmp_path):
    samples = tmp_path / "samples"
    text = _section(samples, "stage_00", "stage 0", 0, stem="note 00 & <pitch>").read_text()
    assert "<style>" in text and "<script" not in text and "<link" not in text
    assert "http" not in text and "file:" not in text
    sources = re.findall(r'src="([^"]+)"', text)
    assert sources == ["stage_00/note%2000%20%26%20%3Cpitch%3E.wav",
                       "stage_00/note%2000%20%26%20%3Cpitch%3E.png"]
    assert "<h3>note 00 &amp; &lt;pitch&gt;</h3>" in text  # names are escaped


def test_page_is_rebuilt_from_every_section_and_skips_a_broken_one(tmp_path):
    samples = tmp_path / "samples"
    _section(samples, "epoch_001", "epoch 1", 1)
    _section(samples, "epoch_002", "epoch 2", 2)
    (samples / "index.html").unlink()  # e.g. a new session: the page comes back whole
    (samples / "epoch_002" / SECTION_FILE).write_text("{ half written")
    text = write_page(samples).read_text()
    assert "epoch 1" in text and "epoch 2" not in text and "1 sample set(s)" in text

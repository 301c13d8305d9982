"""Sample pictures: axes in seconds and Hz, dB colour bars, titles, and the data where the
axes say it is."""

import matplotlib.image
import numpy as np
import pytest

from tests.figures import pixel_at
from tfaudiogan.audio.gansynth import hz_to_mel, mel_to_hz
from tfaudiogan.training import plots

SR = 16000
T = np.arange(SR) / SR
TONE = 0.5 * np.sin(2 * np.pi * 1000 * T)


def test_stft_is_in_db_re_full_scale():
    (spec,) = plots.stft(np.sin(2 * np.pi * 16 * SR / 256 * T), SR)  # a bin-centred sine
    assert spec.db.shape == (129, SR // 128) and spec.seconds == 1.0
    assert spec.row_hz[0] == 0.0 and spec.row_hz[-1] == 8000.0
    assert spec.db.max() == pytest.approx(-6.02, abs=0.05)  # a full-scale sine is half of 0 dB
    assert spec.normalised().max() == 1.0 and spec.normalised().min() == -1.0


def test_spectrogram_figure_has_time_frequency_and_db_axes_and_the_tone_at_its_frequency():
    (spec,) = plots.stft(TONE, SR)
    figure = plots.spectrogram_figure([("real piano", spec)], "rec_piano, epoch 2")
    ax, bar = figure.axes
    assert figure.get_suptitle() == "rec_piano, epoch 2" and ax.get_title() == "real piano"
    assert ax.get_xlabel() == "time (s)" and ax.get_xlim() == (0.0, 1.0)
    assert ax.get_ylabel() == "frequency (Hz)" and ax.get_ylim() == (-0.5, 128.5)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "2000", "4000", "6000", "8000"]
    assert "dB" in bar.get_ylabel()
    low, high = bar.get_ylim()
    assert high - low == pytest.approx(80.0) and high == pytest.approx(spec.db.max())
    loud, quiet = (pixel_at(figure, ax, 0.5, plots.row_position(spec.row_hz, hz))
                   for hz in (1000.0, 4000.0))
    assert loud.sum() > 600 and quiet.sum() < 100  # magma: near white at the top, black below


def test_mel_and_log_axes_put_hz_labels_where_the_rows_have_those_frequencies():
    db = np.zeros((40, 10))
    mel_hz = mel_to_hz(np.linspace(0, hz_to_mel(8000), 40))
    mel = plots.spectrogram_figure([("", plots.Spectrogram(db, 4.0, mel_hz, "mel"))], "m")
    ax = mel.axes[0]
    ticks = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert ticks["1000"] == pytest.approx(hz_to_mel(1000.0) / hz_to_mel(8000) * 39, abs=0.05)  # rows are linearly interpolated
    assert "5000" in ticks and ax.get_ylim() == (-0.5, 39.5)
    assert "mel" in ax.get_ylabel() and "Hz" in ax.get_ylabel()
    log_hz = np.geomspace(32, 2100, 40)
    log = plots.spectrogram_figure([("", plots.Spectrogram(db, 4.0, log_hz, "log"))], "l")
    ticks = {t.get_text(): t.get_position()[1] for t in log.axes[0].get_yticklabels()}
    assert ticks["100"] == pytest.approx(np.log(100 / 32) / np.log(2100 / 32) * 39, abs=0.05)  # rows are linearly interpolated
    assert "1000" in ticks and "20" not in ticks
    with pytest.raises(ValueError, match="row_hz"):
        plots.Spectrogram(db, 1.0, log_hz[::-1])
    with pytest.raises(ValueError, match="row_hz"):
        plots.Spectrogram(db, 1.0, log_hz[:-1])
    with pytest.raises(ValueError, match="scale"):
        plots.Spectrogram(db, 1.0, log_hz, scale="bark")


def test_side_by_side_figure_is_wider_shares_axes_and_one_colour_scale():
    a, b = plots.stft(np.stack([TONE, 0.01 * np.sin(2 * np.pi * 300 * T)]), SR)
    figure = plots.spectrogram_figure([("real", a), ("translated", b), ("back", a)], "cycle")
    *panels, bar = figure.axes
    assert [p.get_title() for p in panels] == ["real", "translated", "back"]
    assert all(p.get_xlabel() == "time (s)" for p in panels)
    assert bar.get_ylim()[1] == pytest.approx(a.db.max())  # the loudest panel sets the top


def test_written_pngs_have_their_size_and_differ_with_the_input(tmp_path):
    tone, noise = plots.stft(np.stack([TONE, 0.1 * np.random.default_rng(0).standard_normal(SR)]),
                             SR)
    one = plots.write_spectrograms(tmp_path / "one.png", [("", tone)], "one")
    other = plots.write_spectrograms(tmp_path / "other.png", [("", noise)], "one")
    three = plots.write_spectrograms(tmp_path / "three.png", [("", tone)] * 3, "three")
    a, b, c = (matplotlib.image.imread(p) for p in (one, other, three))
    assert a.shape == b.shape == (340, 500, 4)  # height, width, RGBA at 100 dpi
    assert c.shape[0] == a.shape[0] and c.shape[1] > 2 * a.shape[1]
    assert np.abs(a - b).mean() > 0.01
    assert len(np.unique(a.reshape(-1, 4), axis=0)) > 100  # a picture, not a blank


def test_controls_figure_labels_f0_in_hz_on_a_log_axis_amplitude_and_harmonics(tmp_path):
    frames, k = 50, 8
    f0 = np.geomspace(100, 400, frames)
    dist = np.full((frames, k), 1.0 / k)
    figure = plots.controls_figure(f0, np.linspace(0, 1, frames), dist, 2.0, "sample_0")
    pitch, _, level, _, spread, bar = figure.axes
    assert pitch.get_yscale() == "log" and "F0 (Hz" in pitch.get_ylabel()
    assert level.get_ylabel() == "amplitude" and spread.get_ylabel() == "harmonic number"
    assert spread.get_xlabel() == "time (s)" and spread.get_xlim() == (0.0, 2.0)
    assert spread.get_ylim() == (0.5, k + 0.5) and bar.get_ylabel() == "share of the amplitude"
    assert figure.get_suptitle() == "sample_0"
    a = plots.write_controls(tmp_path / "a.png", f0, np.ones(frames), dist, 2.0, "a")
    b = plots.write_controls(tmp_path / "b.png", f0[::-1], np.ones(frames), dist, 2.0, "a")
    assert np.abs(matplotlib.image.imread(a) - matplotlib.image.imread(b)).mean() > 0.001

"""The WaveGAN paper's Table 1 rows as presets (issue 10 item 13; reference/wavegan.md 6.2)."""

import dataclasses

import keras
import numpy as np
import pytest

from tfaudiogan import configs
from tfaudiogan.configs.wavegan import FAMILY_SPECGAN, FAMILY_WAVEGAN
from tfaudiogan.layers.phase_shuffle import PhaseShuffle, phase_shuffle
from tfaudiogan.models import specgan
from tfaudiogan.recipes.wavegan import build_networks

EXPECTED = {  # preset -> model fields that differ from the paper preset
    (FAMILY_WAVEGAN, "paper_ps0"): {"phaseshuffle_rad": 0},
    (FAMILY_WAVEGAN, "paper_ps4"): {"phaseshuffle_rad": 4},
    (FAMILY_WAVEGAN, "paper_nn"): {"phaseshuffle_rad": 0, "upsample": "nn"},
    (FAMILY_WAVEGAN, "paper_post_filter"): {"phaseshuffle_rad": 0, "post_filter": True},
    (FAMILY_SPECGAN, "paper_ps1"): {"phaseshuffle_rad": 1},
}


def _count(model):
    return sum(int(np.prod(w.shape)) for w in model.weights)


@pytest.mark.parametrize("family, name", list(EXPECTED))
def test_ablation_presets_change_only_their_model_fields(family, name):
    assert name in configs.preset_names(family)  # what --preset's help lists
    paper, ablation = configs.get_preset(family, "paper"), configs.get_preset(family, name)
    assert dataclasses.replace(ablation, model=paper.model) == paper
    diff = {f.name: getattr(ablation.model, f.name) for f in dataclasses.fields(paper.model)
            if getattr(ablation.model, f.name) != getattr(paper.model, f.name)}
    assert diff == {k: v for k, v in EXPECTED[(family, name)].items()
                    if getattr(paper.model, k) != v}


@pytest.mark.parametrize("name, g_params, shuffles", [
    ("paper_ps0", 19_065_345, 0), ("paper_ps4", 19_065_345, 4),
    ("paper_nn", 19_065_345, 0), ("paper_post_filter", 19_065_857, 0)])
def test_wavegan_ablation_networks(name, g_params, shuffles):
    g, d = build_networks(configs.get_preset(FAMILY_WAVEGAN, name))
    assert _count(g) == g_params and _count(d) == 17_427_969  # reference 11.2
    rads = [layer.rad for layer in d.layers if isinstance(layer, PhaseShuffle)]
    assert rads == ([shuffles] * 4 if shuffles else [])
    if name == "paper_nn":
        assert any(isinstance(layer, keras.layers.UpSampling1D) for layer in g.layers)
    keras.backend.clear_session()


def test_specgan_with_phase_shuffle_shifts_time_only():
    _, d = build_networks(configs.get_preset(FAMILY_SPECGAN, "paper_ps1"))
    assert _count(d) == 17_427_969  # phase shuffle has no weights
    shuffles = [layer for layer in d.layers if isinstance(layer, PhaseShuffle)]
    assert [s.name for s in shuffles] == [f"downconv_{i}_phaseshuffle" for i in range(4)]
    assert all(s.rad == 1 for s in shuffles)
    keras.backend.clear_session()
    # On [batch, time, freq, channels] the shift is along time, with reflection (reference 2).
    x = np.arange(7, dtype=np.float32)[None, :, None, None] * np.ones((1, 1, 3, 1), np.float32)
    x[..., 1, :] += 100  # freq bin 1 differs: the freq axis must stay in place
    y = phase_shuffle(x, 1).numpy()
    np.testing.assert_array_equal(y[0, :, 0, 0], [1, 0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(y[0, :, 1, 0], [101, 100, 101, 102, 103, 104, 105])
    # A small SpecGAN critic is stochastic only in training mode.
    small = specgan.discriminator(dim=2, phaseshuffle_rad=1, seed=0)
    img = np.random.default_rng(0).standard_normal((2, 128, 128, 1)).astype(np.float32)
    np.testing.assert_array_equal(small(img, training=False), small(img, training=False))
    outs = {float(small(img, training=True)[0, 0]) for _ in range(8)}
    assert len(outs) > 1


def test_specgan_phase_shuffle_rejects_bad_radius():
    with pytest.raises(ValueError, match="phaseshuffle_rad"):
        specgan.discriminator(dim=2, phaseshuffle_rad=-1)

"""Schedule and fade-in maths against reference/gansynth.md 2.2 and check 10."""

import keras
import numpy as np
import pytest

from tfaudiogan.layers.fade_in import (
    DiscriminatorFade,
    GeneratorFade,
    alpha_from_progress,
    discriminator_alpha,
    downscale,
    generator_alpha,
    progress_from_alpha,
    upscale,
)
from tfaudiogan.layers.progressive_schedule import (
    check_stage_lengths,
    compute_progress,
    is_transition_stage,
    num_stages,
    progress_from_stage_lengths,
    stage_bounds,
    stage_images,
    stage_num_blocks,
)

PHASE = 800_000  # stable = transition images per phase (mel_prog_hires)


def _p(image_id):
    return float(compute_progress(image_id, PHASE, PHASE, 7))


def test_progress_worked_values():
    assert _p(0) == 0.0
    assert _p(799_999) == 0.0
    assert _p(1_200_000) == pytest.approx(0.5)
    for image_id in (1_600_000, 2_000_000, 2_400_000):
        assert _p(image_id) == pytest.approx(1.0)
    assert _p(3_200_000) == pytest.approx(2.0)
    assert _p(9_600_000) == pytest.approx(6.0)
    assert _p(11_000_000) == pytest.approx(6.0)  # capped at num_blocks - 1


def test_block_weights_at_1_2m_images():
    p = _p(1_200_000)
    g = [float(generator_alpha(b, p)) for b in range(1, 8)]
    d = [float(discriminator_alpha(b, p)) for b in range(1, 8)]
    assert g == pytest.approx([0.5, 0.5, 0, 0, 0, 0, 0])
    assert d == pytest.approx([0.5, 1, 1, 1, 1, 1, 1])


def test_generator_weights_sum_to_one():
    for p in np.linspace(0.0, 6.0, 49):
        weights = [float(generator_alpha(b, p)) for b in range(1, 8)]
        assert sum(weights) == pytest.approx(1.0)
        assert min(weights) >= 0.0


def test_thirteen_stages_and_their_blocks():
    assert num_stages(7) == 13
    assert [stage_num_blocks(s) for s in range(13)] == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
    assert [is_transition_stage(s) for s in range(4)] == [False, True, False, True]
    for bad in (-1, 13, 1.0):
        with pytest.raises(ValueError, match="stage"):
            stage_num_blocks(bad)


def test_stage_alpha_follows_schedule():
    # Stage s ends at (s//2 + 1) * S + ((s+1)//2) * T images; inside a transition stage the
    # stage alpha rises from 0 to 1, inside a stable stage it is 1.
    for stage in range(12):
        end = (stage // 2 + 1) * PHASE + ((stage + 1) // 2) * PHASE
        mid = end - PHASE // 2
        n = stage_num_blocks(stage)
        alpha = float(alpha_from_progress(n, _p(mid)))
        assert alpha == pytest.approx(0.5 if is_transition_stage(stage) else 1.0)
        assert float(progress_from_alpha(n, alpha)) == pytest.approx(_p(mid))


@pytest.mark.parametrize("stable, transition", [(800_000, 800_000), (8, 24), (7, 3)])
def test_explicit_uniform_schedule_equals_the_reference_exactly(stable, transition):
    lengths = [stable if s % 2 == 0 else transition for s in range(13)]
    assert stage_bounds(lengths) == stage_images(7, stable, transition, sum(lengths))
    period = stable + transition
    ids = sorted({0, 1, stable - 1, stable, stable + 1, period - 1, period, 6 * period,
                  sum(lengths) - 1, sum(lengths), 2 * sum(lengths)}
                 | set(np.random.default_rng(0).integers(0, sum(lengths) + 5, 200).tolist()))
    for image_id in ids:  # bit-equal, not approximately equal
        assert (float(progress_from_stage_lengths(image_id, lengths))
                == float(compute_progress(image_id, stable, transition, 7))), image_id


def test_explicit_schedule_with_unequal_stages():
    lengths = [8, 16, 8, 400, 800, 8, 8]  # 4 resolutions: long transition 2 and stable 3
    assert stage_bounds(lengths) == [(0, 8), (8, 24), (24, 32), (32, 432), (432, 1232),
                                     (1232, 1240), (1240, 1248)]
    expected = {0: 0.0, 8: 0.0, 16: 0.5, 24: 1.0, 32: 1.0, 132: 1.25, 432: 2.0, 1000: 2.0,
                1236: 2.5, 1240: 3.0, 5000: 3.0}
    for image_id, p in expected.items():
        assert float(progress_from_stage_lengths(image_id, lengths)) == p, image_id
    assert check_stage_lengths(lengths, 4) == tuple(lengths)
    for bad in ([8] * 6, [8, 8, 8, 0, 8, 8, 8]):
        with pytest.raises(ValueError, match="7 positive image counts"):
            check_stage_lengths(bad, 4)


def test_generator_fade_follows_variable():
    alpha = keras.Variable(0.0, trainable=False, name="alpha")
    layer = GeneratorFade(3, alpha)
    xs = [np.full((1, 2, 2, 1), v, dtype="float32") for v in (10.0, 20.0, 30.0)]
    assert float(layer(xs)[0, 0, 0, 0]) == pytest.approx(20.0)  # p = 1: block 2 only
    alpha.assign(0.25)
    assert float(layer(xs)[0, 0, 0, 0]) == pytest.approx(0.75 * 20 + 0.25 * 30)
    alpha.assign(1.0)
    assert float(layer(xs)[0, 0, 0, 0]) == pytest.approx(30.0)
    assert alpha in layer.non_trainable_weights
    with pytest.raises(ValueError, match="expected 3 inputs"):
        layer(xs[:2])


def test_discriminator_fade_blocks():
    new, old = np.full((1, 1, 1, 1), 4.0, "float32"), np.full((1, 1, 1, 1), 8.0, "float32")
    # Stage with 3 blocks at alpha 0.25 -> p = 1.25: block 2 input = 0.75 rgb + 0.25 conv path.
    assert float(DiscriminatorFade(2, 3, 0.25)([new, old])[0, 0, 0, 0]) == pytest.approx(5.0)
    # Block 1 (n - 2) is never fed from rgb inside this stage.
    assert float(DiscriminatorFade(1, 3, 0.25)([new, old])[0, 0, 0, 0]) == pytest.approx(8.0)
    with pytest.raises(ValueError, match="block must be"):
        DiscriminatorFade(3, 3)
    with pytest.raises(ValueError, match="non-trainable"):
        GeneratorFade(2, keras.Variable(0.0, trainable=True))
    config = DiscriminatorFade(2, 3, 0.5, name="f").get_config()
    assert (config["block"], config["num_blocks"], config["alpha"]) == (2, 3, 0.5)


def test_box_upscale_and_downscale(rng):
    x = rng.normal(size=(2, 4, 8, 3)).astype("float32")
    down = downscale(x, 2).numpy()
    np.testing.assert_allclose(down, x.reshape(2, 2, 2, 4, 2, 3).mean(axis=(2, 4)), rtol=1e-5)
    up = upscale(down, 2).numpy()
    np.testing.assert_array_equal(up, np.repeat(np.repeat(down, 2, axis=1), 2, axis=2))
    np.testing.assert_allclose(downscale(upscale(x, 4), 4).numpy(), x, rtol=1e-6)


def test_variable_alpha_survives_config_round_trip():
    layer = GeneratorFade(2, keras.Variable(0.3, trainable=False), name="fade")
    clone = GeneratorFade.from_config(layer.get_config())
    assert isinstance(clone.alpha, keras.Variable) and not clone.alpha.trainable
    assert float(clone.alpha.numpy()) == pytest.approx(0.3)
    assert clone.alpha is not layer.alpha
    assert isinstance(GeneratorFade.from_config(GeneratorFade(2, 0.5).get_config()).alpha, float)

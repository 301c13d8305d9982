"""CycleGAN recipe pieces without training: optimizers per update order, the evaluation rows."""

import numpy as np
import pytest

from tfaudiogan import configs
from tfaudiogan.configs.cyclegan import FAMILY_IRMAS
from tfaudiogan.recipes.cyclegan import build_gan, evaluate, optimizer_iterations, representation

SMOKE = configs.get_preset(FAMILY_IRMAS, "smoke")  # n_epochs 1 + n_epochs_decay 1


def _rate_at(optimizer, step):
    optimizer.iterations.assign(step)
    return float(optimizer.learning_rate)


def test_seed_order_has_one_optimizer_per_network_and_decays_per_iteration():
    cfg = configs.apply_overrides(SMOKE, ["train.update_order=seed"])
    gan = build_gan(cfg, steps_per_epoch=3, freq_bins=32)
    assert optimizer_iterations(gan) == {"gen_ab": 0, "gen_ba": 0, "disc_a": 0, "disc_b": 0}
    # Iteration 2 is the last of epoch 0 (full rate), iteration 3 the first decay epoch:
    # 2e-4 * (1 - 1/2). A discriminator takes 2 steps per iteration (real, then fake).
    for name in ("g_ab_optimizer", "g_ba_optimizer"):
        opt = getattr(gan, name)
        assert _rate_at(opt, 2) == pytest.approx(2e-4) and _rate_at(opt, 3) == pytest.approx(1e-4)
    for name in ("d_a_optimizer", "d_b_optimizer"):
        opt = getattr(gan, name)
        assert _rate_at(opt, 5) == pytest.approx(2e-4) and _rate_at(opt, 6) == pytest.approx(1e-4)
    assert gan.g_ab_optimizer.beta_1 == gan.g_ba_optimizer.beta_1 == 0.5

    one_d_step = build_gan(configs.apply_overrides(cfg, ["train.seed_d_steps=1"]), 3, 32)
    assert _rate_at(one_d_step.d_b_optimizer, 3) == pytest.approx(1e-4)


def test_reference_order_keeps_two_optimizers():
    gan = build_gan(SMOKE, steps_per_epoch=3, freq_bins=32)
    assert optimizer_iterations(gan) == {"generators": 0, "discriminators": 0}
    assert _rate_at(gan.d_optimizer, 3) == pytest.approx(1e-4)


class _Halving:
    """Stands in for the Translator: the 'cycle' halves the image."""

    @staticmethod
    def cycle(first):
        return lambda spec: spec * 0.5


def test_evaluate_scores_every_clip_unless_capped():
    rep = representation(SMOKE)
    rng = np.random.default_rng(0)
    splits = {"train": {"a": rng.uniform(-0.5, 0.5, (5, 4000)).astype(np.float32),
                        "b": rng.uniform(-0.5, 0.5, (3, 4000)).astype(np.float32)},
              "validation": {"a": rng.uniform(-0.5, 0.5, (2, 4000)).astype(np.float32),
                             "b": rng.uniform(-0.5, 0.5, (2, 4000)).astype(np.float32)}}
    rows = evaluate(_Halving(), splits, rep)
    assert [rows[d][s]["clips"] for d in "ab" for s in ("train", "validation")] == [5, 2, 3, 2]
    for d in "ab":
        for s in ("train", "validation"):
            # sum|x/2 - x| / sum|x| = 1/2 on the image; on the magnitude, halving the image
            # moves every bin by a level-dependent number of dB, so only a range is known.
            assert rows[d][s]["relative_forward_cycle_loss"] == pytest.approx(0.5, rel=1e-6)
            assert 0.0 < rows[d][s]["relative_forward_cycle_loss_linear"] < 1.0
    capped = evaluate(_Halving(), splits, rep, max_clips=2)
    assert capped["a"]["train"]["clips"] == 2

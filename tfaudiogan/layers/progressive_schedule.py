"""The progressive-growing schedule, counted in images (reference/gansynth.md 2.2).

Terminology (GANSynth ``networks.py`` / ``train_util.py``):

- *progress* ``p`` in ``[0, num_resolutions - 1]``: ``p = k`` is the stable phase of ``k + 1``
  blocks, ``p = k + f`` the transition from ``k + 1`` to ``k + 2`` blocks, fraction ``f``.
- *stage* ``s`` in ``0 .. 2 * num_resolutions - 2``: even = stable, odd = transition; it uses
  ``(s + 1) // 2 + 1`` blocks. Each stage is a separately built (traced) model.
- *alpha* in ``[0, 1]``: the weight of the newest block inside one stage model,
  ``p = num_blocks - 2 + alpha`` (alpha = 1 in stable stages); the blending is in
  layers/fade_in.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import ops


def num_stages(num_resolutions: int) -> int:
    """Number of training stages, ``2 * num_resolutions - 1`` (13 for GANSynth's 7)."""
    return 2 * int(num_resolutions) - 1


def _check_stage(stage: int, num_resolutions: int) -> int:
    if not isinstance(stage, int) or not 0 <= stage < num_stages(num_resolutions):
        raise ValueError(f"stage must be an integer in [0, {num_stages(num_resolutions) - 1}] "
                         f"for {num_resolutions} resolutions; got {stage!r}")
    return stage


def stage_num_blocks(stage: int, num_resolutions: int = 7) -> int:
    """Blocks used by ``stage``: ``(stage + 1) // 2 + 1`` (reference ``get_stage_info``).

    Raises:
        ValueError: if ``stage`` is outside ``[0, 2 * num_resolutions - 2]``.
    """
    return (_check_stage(stage, num_resolutions) + 1) // 2 + 1


def is_transition_stage(stage: int, num_resolutions: int = 7) -> bool:
    """True for odd stages (a new block fades in), False for stable (even) stages."""
    return _check_stage(stage, num_resolutions) % 2 == 1


def compute_progress(image_id, stable_images: int, transition_images: int, num_blocks: int):
    """Training progress from the number of images seen (reference ``compute_progress``).

    ``p = floor(c / (S + T)) + max(0, (c mod (S + T) - S) / T)`` with
    ``c = min(image_id, num_blocks * S + (num_blocks - 1) * T - 1)``.

    Args:
        image_id: images seen so far (scalar int, Python or tensor).
        stable_images: images per stable phase ``S`` (800k in the paper config).
        transition_images: images per transition phase ``T`` (800k).
        num_blocks: total number of blocks (7).

    Returns:
        Scalar float32 tensor in ``[0, num_blocks - 1]``.
    """
    cap = num_blocks * stable_images + (num_blocks - 1) * transition_images - 1
    c = ops.minimum(ops.cast(image_id, "int64"), cap)
    period = stable_images + transition_images
    whole = ops.cast(ops.floor_divide(c, period), "float32")
    within = ops.cast(ops.mod(c, period) - stable_images, "float32")
    return whole + ops.maximum(0.0, within / float(transition_images))


def stage_images(num_resolutions: int, stable_images: int, transition_images: int,
                 total_images: int) -> list[tuple[int, int]]:
    """``[(start, end)]`` images of every stage (reference ``get_stage_info``).

    Stage ``s`` ends at ``(s // 2 + 1) S + ((s + 1) // 2) T``; the last one at
    ``total_images`` (or one image after the previous end, if that is later).
    Paper (S = T = 800k, 11M in all): 0.8M, 1.6M, ..., 9.6M, 11M.
    """
    n = num_stages(num_resolutions)
    ends = [(s // 2 + 1) * stable_images + ((s + 1) // 2) * transition_images
            for s in range(n - 1)]
    ends.append(max(total_images, ends[-1] + 1 if ends else total_images))
    return list(zip([0] + ends[:-1], ends))


def check_stage_lengths(stage_lengths: Sequence[int], num_resolutions: int) -> tuple[int, ...]:
    """An explicit schedule: one positive image count per stage, ``num_stages`` of them.

    Raises:
        ValueError: wrong number of entries or a count < 1.
    """
    lengths = tuple(int(n) for n in stage_lengths)
    expected = num_stages(num_resolutions)
    if len(lengths) != expected or min(lengths, default=0) < 1:
        raise ValueError(f"stage_images needs {expected} positive image counts (one per stage "
                         f"of {num_resolutions} resolutions: stable, transition, ..., stable); "
                         f"got {list(lengths)}")
    return lengths


def stage_bounds(stage_lengths: Sequence[int]) -> list[tuple[int, int]]:
    """``[(start, end)]`` images of consecutive stages of the given lengths."""
    bounds, start = [], 0
    for length in stage_lengths:
        bounds.append((start, start + int(length)))
        start += int(length)
    return bounds


def progress_from_stage_lengths(image_id, stage_lengths: Sequence[int]):
    """Training progress for an explicit per-stage schedule (not the reference's).

    ``p = sum over transition stages s (odd) of clip((c - start_s) / length_s, 0, 1)``: the
    number of finished transitions plus the fraction of the running one. For the uniform
    schedule (lengths S, T, S, ..., T, S) this equals :func:`compute_progress` exactly.

    Args:
        image_id: images seen so far (scalar int, Python or tensor).
        stage_lengths: images of every stage, stage 0 first.

    Returns:
        Scalar float32 tensor in ``[0, len(stage_lengths) // 2]``.
    """
    c = ops.cast(image_id, "int64")
    progress = ops.convert_to_tensor(0.0, "float32")
    for stage, (start, end) in enumerate(stage_bounds(stage_lengths)):
        if stage % 2 == 1:
            done = ops.cast(ops.clip(c - start, 0, end - start), "float32")
            progress = progress + done / float(end - start)
    return progress

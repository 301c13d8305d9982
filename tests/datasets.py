"""Small datasets in the layouts of the real downloads, shared by several test modules.

Each writer builds the folder tree / files the library's readers expect of the published data
(IRMAS training excerpts, SC09 in the WaveGAN and the Speech Commands layout, NSynth as
TFRecords or json+wav with the GANSynth subset CSV), at whatever size a test needs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from tfaudiogan.data import nsynth_writer
from tfaudiogan.recipes.gansynth import SPLITS_CSV

SC09_WORDS = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")


def _tone(rng, n: int, sample_rate: int, amp: float = 0.3) -> np.ndarray:
    t = np.arange(n) / sample_rate
    return (amp * np.sin(2 * np.pi * rng.uniform(200, 800) * t)).astype(np.float32)


def write_irmas_tree(root, instruments=("pia", "gel"), per_instrument: int = 3,
                     seconds: float = 1.0, sample_rate: int = 44_100, stereo: bool = False,
                     seed: int = 0) -> Path:
    """``root/<code>/[<code>][cla]<NNNN>__1.wav`` per instrument code: IRMAS training-excerpt
    names and folders (the download is 3 s, 44.1 kHz, 16-bit stereo). Returns ``root``."""
    root, rng = Path(root), np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    for code in instruments:
        (root / code).mkdir(parents=True, exist_ok=True)
        for i in range(per_instrument):
            wave = _tone(rng, n, sample_rate)
            wave = np.stack([wave, 0.6 * wave], 1) if stereo else wave
            sf.write(root / code / f"[{code}][cla]{i:04d}__1.wav", wave, sample_rate,
                     subtype="PCM_16")
    return root


def write_sc09(root, layout: str = "wavegan", per_digit: int = 1, held_out_per_digit: int = 1,
               splits=("train", "valid", "test"), seconds: float = 1.0,
               sample_rate: int = 16_000, seed: int = 0) -> Path:
    """SC09 (the ten digits of Speech Commands v0.01) in one of its two layouts; returns the
    dataset root to pass as ``--data_dir``.

    ``"wavegan"``: ``root/{train,valid,test}/<Word>_<speaker>_nohash_<k>.wav`` (the WaveGAN
    authors' sc09.tar.gz). ``"speech_commands"``: ``root/<word>/<speaker>_nohash_<k>.wav`` with
    ``validation_list.txt`` / ``testing_list.txt`` naming the held-out files (the original
    download). Each digit gets ``per_digit`` train files and ``held_out_per_digit`` files in
    each other split of ``splits``.
    """
    root, rng = Path(root), np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    lists = {"valid": [], "test": []}
    for split in splits:
        for d, word in enumerate(SC09_WORDS):
            for k in range(per_digit if split == "train" else held_out_per_digit):
                speaker = f"{split[:2]}{d:02d}{k:04d}"
                if layout == "wavegan":
                    path = root / split / f"{word}_{speaker}_nohash_{k}.wav"
                elif layout == "speech_commands":
                    rel = f"{word.lower()}/{speaker}_nohash_{k}.wav"
                    path = root / rel
                    if split in lists:
                        lists[split].append(rel)
                else:
                    raise ValueError(f"unknown SC09 layout {layout!r}")
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, _tone(rng, n, sample_rate), sample_rate, subtype="PCM_16")
    if layout == "speech_commands":
        (root / "validation_list.txt").write_text("".join(f"{p}\n" for p in lists["valid"]))
        (root / "testing_list.txt").write_text("".join(f"{p}\n" for p in lists["test"]))
    return root


def write_nsynth_tree(root, layout: str, instruments: int = 12, notes_per_instrument: int = 5,
                      length: int = 96, held_out: int = 1, seed: int = 0):  # <= 5 per instrument
    """An instrument-sorted nsynth-train (as the published files are), ``held_out`` notes in
    each of nsynth-valid / nsynth-test, and a splits CSV that puts every acoustic note in
    24..84 but the last of each instrument in 'train' (the valid / test notes included: the
    subset is re-split over all three original splits). Notes are ``length`` samples of noise,
    pitch 24 + instrument. Returns (train note_strs, all written notes)."""
    root, rng = Path(root), np.random.default_rng(seed)
    notes = []
    for inst in range(instruments):
        for k in range(notes_per_instrument):
            notes.append(nsynth_writer.complete_example({
                "audio": (rng.integers(-9000, 9000, length) / 32768.0).astype(np.float32),
                "pitch": 24 + inst, "instrument": inst, "instrument_source": 0,
                "velocity": (25, 50, 75, 100, 127)[k]}, len(notes)))
    extra = [nsynth_writer.complete_example({
        "audio": np.zeros(length, np.float32), "pitch": 60, "instrument": 500 + i,
        "instrument_source": 0}, 1000 + i) for i in range(2 * held_out)]
    splits = {"train": notes, "valid": extra[:held_out], "test": extra[held_out:]}
    for split, exs in splits.items():
        if layout == "tfrecord":
            nsynth_writer.write_tfrecord(root / f"nsynth-{split}.tfrecord", exs)
        else:
            nsynth_writer.write_json_wav(root / f"nsynth-{split}", exs)
    train = [ex["note_str"] for i, ex in enumerate(notes) if i % notes_per_instrument]
    train += [ex["note_str"] for ex in extra]
    held = [ex["note_str"] for i, ex in enumerate(notes) if not i % notes_per_instrument]
    rows = ["id,split"] + [f"{n},train" for n in train] + [f"{n},test" for n in held]
    (root / SPLITS_CSV).write_text("\n".join(rows) + "\n")
    return train, notes + extra

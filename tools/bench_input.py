"""Input pipelines: the GANSynth front ends beside librosa, and each family's tf.data pipeline
beside what its train step consumes on this CPU.

    python tools/bench_input.py [--steps 3] [--threads 2,1] [--pipelines all] [--json out.json]

Rows (``rows(args)`` is what tools/benchmark.py calls):
  * front end: notes per second of a GANSynth front end on 8 notes of 4 s at 16 kHz (H: nfft
    2048, hop 512, 128 x 1024 images), next to librosa + numpy computing the same features
    from the same padded audio (``vs_librosa`` = tfaudiogan / librosa, same process).
    - encode IF: ``librosa.stft`` (center=False, DC dropped), ``log(|S| + 1e-6)``, ``np.angle``,
      ``np.unwrap``, ``np.diff``.
    - encode mel-IF: the above, then the GANSynth mel matrix as librosa applies its filter
      bank (a dense product): ``log(L2M^T (|S| + 1e-6)^2 + 1e-6)`` and the IF of
      ``L2M^T cumsum(IF * pi)``. Also ``librosa melspectrogram``: STFT and a 1024-band
      librosa filter bank (built once) of the power, log; no phase at all.
    - decode IF / mel-IF: (``M2L^T``, for mel) magnitude and ``cumsum(IF * pi)`` phase, then
      ``librosa.istft`` (center=False), front padding cropped.
    tfaudiogan rows: the default (FFT) path and the ``exportable=True`` (matmul DFT, TFLite
    builtins) path that SavedModel/TFLite exports run. Each row is measured afresh (warm-up
    call excluded, median of ``max(steps, 5)`` calls; the implementations of one task take
    turns call by call, so load changes hit them alike) in a new process per thread count, since
    TensorFlow's thread pools are fixed at start-up (``tf.config.threading`` intra/inter-op;
    ``OMP/OPENBLAS/MKL_NUM_THREADS`` for numpy). numpy's FFT (librosa.stft) is single-threaded
    whatever the setting.
  * pipeline: examples (notes, clips, crop pairs) per second that each family's training
    dataset delivers (the recipe's own function on the paper preset's data path and shapes,
    iterated alone after a warm-up, in this process with all threads), next to what one train
    step consumes: ``examples per step / seconds per step`` on this CPU. ``headroom`` =
    delivered / consumed; a GPU runs the step many times faster than this CPU, so the
    pipeline must keep a large headroom here. Data: GANSynth and DDSP read an NSynth TFRecord
    of 160 synthetic 4-s notes, 1 in 5 in the GANSynth subset (the real train split keeps
    21 %), from the page cache (the real 74 GB file is read from disk every epoch: not
    measured here); WaveGAN/SpecGAN/CycleGAN hold their clips in memory as their recipes do
    (CycleGAN also reports its one-off up-front encoding). Train steps: GANSynth at paper
    widths for ``--gansynth_stages`` (default stage 0, the 2x16 start, where a GPU consumes
    most notes per second), DDSP at the paper batch; WaveGAN, SpecGAN and CycleGAN with the
    paper networks but ``STEP_BATCH`` examples (a paper-batch step takes minutes here).

    python tools/bench_input.py --threads "" --pipelines gansynth,ddsp   # some pipeline rows
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common

import bench_common  # noqa: E402

NOTES = 8  # the measurement: 8 notes of 4 s at 16 kHz
AUDIO_LENGTH = 64000
SAMPLE_RATE = 16000
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMBA_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def _interleaved_medians(fns: dict, repeats: int) -> dict:
    """Median seconds per call of each function, the calls taken in turns (one warm-up call
    each, excluded), so that a change in the machine's load hits every row alike."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(bench_common.seconds(fn))
    return {name: statistics.median(t) for name, t in times.items()}


# --------------------------------------------------------------------------- front ends

def _notes():
    """8 synthetic 4-s notes at 16 kHz (pitched, NSynth-like), float32 [8, 64000]."""
    from tfaudiogan.data.synthetic_notes import synthetic_notes

    return synthetic_notes(NOTES, SAMPLE_RATE, AUDIO_LENGTH / SAMPLE_RATE, seed=0)["audio"]


def _librosa_fns(rep, waves, specs_lin, specs_mel):
    """librosa/numpy computations of the same features (see the module docstring)."""
    import librosa
    import numpy as np

    padded = np.pad(waves, [[0, 0], [rep.pad_l, 0]])
    l2m_t = np.ascontiguousarray(rep.l2m.T, np.float32)  # [mel, freq]
    m2l_t = np.ascontiguousarray(rep.m2l.T, np.float32)  # [freq, mel]
    filters = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=rep.nfft, n_mels=rep.l2m.shape[1])
    # librosa's layout [notes, bins, frames]; transposed here, outside the timing.
    lin = np.ascontiguousarray(np.transpose(specs_lin, (0, 2, 1, 3)))
    mel = np.ascontiguousarray(np.transpose(specs_mel, (0, 2, 1, 3)))

    def stft():
        spec = librosa.stft(padded, n_fft=rep.nfft, hop_length=rep.hop, window="hann",
                            center=False)[:, 1:, :]
        return np.abs(spec), np.angle(spec)

    def ifreq(phase):
        return np.concatenate([phase[..., :1], np.diff(np.unwrap(phase, axis=-1), axis=-1)],
                              axis=-1) / np.pi

    def encode_if():
        magnitude, phase = stft()
        return np.log(magnitude + 1e-6), ifreq(phase)

    def encode_mel():
        magnitude, phase = stft()
        power = np.matmul(l2m_t, np.square(magnitude + 1e-6))
        mel_phase = np.matmul(l2m_t, np.cumsum(ifreq(phase) * np.pi, axis=-1))
        return np.log(power + 1e-6), ifreq(mel_phase)

    def melspectrogram():
        power = np.abs(librosa.stft(waves, n_fft=rep.nfft, hop_length=rep.hop)) ** 2
        return np.log(np.matmul(filters, power) + 1e-6)

    def istft(magnitude, phase):
        spec = magnitude * np.exp(1j * phase).astype(np.complex64)
        spec = np.concatenate([np.zeros_like(spec[:, :1]), spec], axis=1)  # zero DC
        waves_out = librosa.istft(spec, hop_length=rep.hop, n_fft=rep.nfft, window="hann",
                                  center=False)
        return waves_out[:, rep.pad_l:rep.pad_l + AUDIO_LENGTH]

    def decode_if():
        return istft(np.exp(lin[..., 0]), np.cumsum(lin[..., 1] * np.pi, axis=-1))

    def decode_mel():
        magnitude = np.sqrt(np.matmul(m2l_t, np.exp(mel[..., 0])) + 1e-6)
        phase = np.matmul(m2l_t, np.cumsum(mel[..., 1] * np.pi, axis=-1))
        return istft(magnitude, phase)

    return {"encode IF": encode_if, "encode mel-IF": encode_mel,
            "melspectrogram": melspectrogram, "decode IF": decode_if,
            "decode mel-IF": decode_mel}


def frontend_worker(threads: int, repeats: int) -> list[dict]:
    """The front-end rows in this process, with ``threads`` TF/BLAS threads (set in the
    environment by :func:`frontend_rows` before numpy and TensorFlow start)."""
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from tfaudiogan.audio.gansynth import GANSynthSpectrogram

    waves = np.asarray(_notes(), np.float32)
    x = tf.constant(waves)
    reps = {(mel, exportable): GANSynthSpectrogram(True, mel, exportable=exportable)
            for mel in (False, True) for exportable in (False, True)}
    specs = {mel: reps[mel, False].encode(x) for mel in (False, True)}
    librosa_fns = _librosa_fns(reps[True, False], waves, specs[False].numpy(),
                               specs[True].numpy())

    cases = {}  # task -> {implementation: fn}
    for mel, task in ((False, "IF"), (True, "mel-IF")):
        for exportable, impl in ((False, "tfaudiogan"), (True, "tfaudiogan exportable")):
            encode = tf.function(reps[mel, exportable].encode)
            decode = tf.function(reps[mel, exportable].decode)
            cases.setdefault(f"encode {task}", {})[impl] = lambda f=encode: f(x).numpy()
            cases.setdefault(f"decode {task}", {})[impl] = (
                lambda f=decode, s=specs[mel]: f(s).numpy())
    for task, fn in librosa_fns.items():
        cases.setdefault(task, {})["librosa"] = fn

    out = []
    order = ["encode IF", "encode mel-IF", "melspectrogram", "decode IF", "decode mel-IF"]
    for task in order:
        for impl, seconds in _interleaved_medians(cases[task], repeats).items():
            out.append({"row": f"front end: {task} (H, {NOTES} x 4 s)", "impl": impl,
                        "threads": threads, "notes_per_s": round(NOTES / seconds, 1)})
    librosa_rate = {r["row"]: r["notes_per_s"] for r in out if r["impl"] == "librosa"}
    melspec = librosa_rate[f"front end: melspectrogram (H, {NOTES} x 4 s)"]
    for r in out:
        if r["impl"] != "librosa":
            r["vs_librosa"] = round(r["notes_per_s"] / librosa_rate[r["row"]], 2)
            if "mel-IF" in r["row"] and "encode" in r["row"]:
                r["vs_librosa_melspectrogram"] = round(r["notes_per_s"] / melspec, 2)
    return out


def frontend_rows(thread_counts, repeats: int) -> list[dict]:
    """Front-end rows, one fresh process per thread count."""
    out = []
    for threads in thread_counts:
        env = {**os.environ, **{k: str(threads) for k in _THREAD_VARIABLES}}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--frontend_worker",
               str(threads), "--steps", str(repeats)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"front-end worker ({threads} threads) failed:\n{done.stderr}")
        out += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return out


# --------------------------------------------------------------------------- pipelines

def _delivered_per_s(ds, per_element: int, warmup: int, measured: int) -> float:
    """Examples per second that iterating ``ds`` alone yields, after ``warmup`` elements
    (tracing, shuffle buffer, prefetch)."""
    iterator = iter(ds)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(measured):
        next(iterator)
    return per_element * measured / (time.perf_counter() - start)


def _step_seconds(step, data, steps: int) -> float:
    """Median seconds of ``step(data)`` after one warm-up call; one measured call when the
    warm-up took more than 10 s (paper-size CycleGAN/SpecGAN steps on this CPU)."""
    import tensorflow as tf

    def run():
        tf.nest.map_structure(lambda t: t.numpy(), step(data))

    repeats = 1 if bench_common.seconds(run) > 10 else steps
    return statistics.median(bench_common.seconds(run) for _ in range(repeats))


def _nsynth_tfrecord(folder: Path, n: int, kept_every: int = 5) -> Path:
    """An NSynth train TFRecord of ``n`` 4-s synthetic notes; every ``kept_every``-th is in the
    GANSynth subset (acoustic, MIDI 24-84), the others electronic: the real train split keeps
    60,788 of 289,205 notes (21 %), and the reader parses the skipped notes' labels too."""
    from tfaudiogan.data.nsynth_writer import write_tfrecord
    from tfaudiogan.data.synthetic_notes import synthetic_notes, to_examples

    notes = to_examples(synthetic_notes(n, SAMPLE_RATE, AUDIO_LENGTH / SAMPLE_RATE, seed=0))
    for i, note in enumerate(notes):
        note["instrument_source"] = 0 if i % kept_every == 0 else 1
    write_tfrecord(folder / "nsynth-train.tfrecord", notes)
    return folder


def _row(family: str, source: str, unit: str, delivered: float, step_seconds: float,
         consumed_per_step: int, step: str) -> dict:
    consumed = consumed_per_step / step_seconds
    return {"row": f"input pipeline: {family}", "data": source, "unit": unit,
            "delivered_per_s": round(delivered, 1), "train_step": step,
            "seconds_per_step": round(step_seconds, 3), "consumed_per_s": round(consumed, 2),
            "headroom": round(delivered / consumed, 1)}


def gansynth_pipeline(folder: Path, steps: int, stages) -> list[dict]:
    import keras
    import numpy as np
    import tensorflow as tf

    from tfaudiogan import configs
    from tfaudiogan.recipes import gansynth

    # the bench's notes are a plain nsynth-train TFRecord: no GANSynth subset CSV
    config = configs.apply_overrides(configs.get_preset("gansynth_nsynth", "paper"),
                                     ["data.gansynth_splits=none"])
    notes, counts = gansynth.load_notes(config, folder, _quiet_logger())
    rep = gansynth.representation(config)
    per_epoch = int(counts.sum()) // config.train.batch_size
    # No cache: the paper's 15.6 GB train subset does not fit (data.pipelines.cache_if_fits).
    ds = gansynth.training_dataset(notes, rep, config)
    delivered = _delivered_per_s(ds, config.train.batch_size, 2 * per_epoch, 4 * per_epoch)
    batch = next(iter(ds))
    out = []
    for stage in stages:
        keras.backend.clear_session()
        gan = gansynth.build_stage(config, stage, np.asarray(counts), 0)
        seconds = _step_seconds(tf.function(gan.train_step), batch, steps)
        out.append(_row("gansynth", "NSynth TFRecord -> mel-IF (H), paper preset", "notes",
                        delivered, seconds, config.train.batch_size,
                        f"paper widths, stage {stage} ({gan.num_blocks} blocks), batch "
                        f"{config.train.batch_size}"))
    return out


def ddsp_pipeline(folder: Path, steps: int) -> list[dict]:
    import tensorflow as tf

    from tfaudiogan import configs
    from tfaudiogan.recipes import ddsp_gan

    config = configs.get_preset("ddsp_gan_nsynth", "paper")
    notes = ddsp_gan.load_notes(config, folder, _quiet_logger())
    run = type("Run", (), {"config": config})()
    ds = ddsp_gan.RECIPE.dataset(run, notes)
    b = config.train.batch_size
    delivered = _delivered_per_s(ds, b, 4, 8)
    gan = ddsp_gan.build_gan(config)
    seconds = _step_seconds(tf.function(gan.train_step), next(iter(ds)), steps)
    return [_row("ddsp_gan", "NSynth TFRecord notes, paper preset", "notes", delivered,
                 seconds, b, f"paper, batch {b}")]


def wavegan_pipeline(kind: str, steps: int, clips: int = 512) -> list[dict]:
    import numpy as np
    import tensorflow as tf

    from tfaudiogan import configs
    from tfaudiogan.recipes import wavegan

    config = configs.get_preset(f"{kind}_sc09", "paper")
    rng = np.random.default_rng(0)
    shape = (config.model.slice_len, 1) if kind == "wavegan" else (128, 128, 1)
    x = rng.uniform(-1, 1, (clips, *shape)).astype(np.float32)
    ds = wavegan.real_dataset(x, config)
    d = config.loss.d_updates
    delivered = _delivered_per_s(ds, config.train.batch_size * d, 3, 6)
    gan = wavegan.build_gan(config)
    small = next(iter(ds))[:STEP_BATCH[kind]]
    seconds = _step_seconds(tf.function(gan.train_step), small, steps)
    source = ("in-memory SC09-size clips (16384 samples)" if kind == "wavegan"
              else "in-memory 128x128 SpecGAN images")
    return [_row(kind, f"{source}, paper preset (batch {config.train.batch_size} x {d})",
                 "clips", delivered, seconds, STEP_BATCH[kind] * d,
                 f"paper networks, batch {STEP_BATCH[kind]} (paper "
                 f"{config.train.batch_size}) x {d} D updates")]


def cyclegan_pipeline(steps: int, clips: int = 16) -> list[dict]:
    import numpy as np
    import tensorflow as tf

    from tfaudiogan import configs
    from tfaudiogan.data.pipelines import spectrogram_crops, unaligned_pairs
    from tfaudiogan.recipes import cyclegan

    config = configs.get_preset("cyclegan_irmas", "paper")
    rep = cyclegan.representation(config)
    s, t = config.spectrogram, config.train
    rng = np.random.default_rng(0)
    samples = int(round(3.0 * s.sample_rate))  # IRMAS: 3-s clips
    a, b = (rng.uniform(-0.5, 0.5, (clips, samples)).astype(np.float32) for _ in range(2))
    start = time.perf_counter()
    ds = unaligned_pairs(spectrogram_crops(a, rep, t.crop_frames, t.batch_size, seed=t.seed),
                         spectrogram_crops(b, rep, t.crop_frames, t.batch_size,
                                           seed=t.seed + 1))
    encoded = 2 * clips / (time.perf_counter() - start)
    delivered = _delivered_per_s(ds, t.batch_size, 8, 32)
    gan = cyclegan.build_gan(config, 10, rep.freq_bins)
    small = tuple(x[:STEP_BATCH["cyclegan"]] for x in next(iter(ds)))
    seconds = _step_seconds(tf.function(gan.train_step), small, steps)
    row = _row("cyclegan", f"in-memory IRMAS-size clips (3 s at 25 kHz), paper preset "
               f"(batch {t.batch_size})", "crop pairs", delivered, seconds,
               STEP_BATCH["cyclegan"],
               f"paper networks, batch {STEP_BATCH['cyclegan']} (paper {t.batch_size}) of "
               f"{rep.freq_bins}x{t.crop_frames}")
    row["encoded_up_front_clips_per_s"] = round(encoded, 1)  # spectrograms, once per run
    return [row]


def _quiet_logger():
    import logging

    log = logging.getLogger("bench_input")
    log.setLevel(logging.WARNING)
    return log


PIPELINES = ("gansynth", "ddsp", "wavegan", "specgan", "cyclegan")
# Train steps measured with fewer examples than the paper's batch where a paper-size step takes
# minutes on this 2-core CPU (WaveGAN 64 x 5 clips: ~5 min under load). The networks are the
# paper's; a CPU's examples per second hardly depend on the batch once it is compute-bound.
STEP_BATCH = {"wavegan": 8, "specgan": 8, "cyclegan": 1}


def pipeline_rows(families, steps: int, stages) -> list[dict]:
    """One row per family (GANSynth: per stage) in this process (all threads)."""
    import tempfile

    import keras

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = None
        for family in families:
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            if family in ("gansynth", "ddsp") and folder is None:
                folder = _nsynth_tfrecord(Path(tmp), 160)
            if family == "gansynth":
                out += gansynth_pipeline(folder, steps, stages)
            elif family == "ddsp":
                out += ddsp_pipeline(folder, steps)
            elif family in ("wavegan", "specgan"):
                out += wavegan_pipeline(family, steps)
            elif family == "cyclegan":
                out += cyclegan_pipeline(steps)
            else:
                raise ValueError(f"unknown pipeline '{family}'; choose from {PIPELINES}")
    return out


# --------------------------------------------------------------------------- entry points

def rows(args) -> list[dict]:
    """Front-end rows (2 and 1 threads by default) and pipeline rows (every family)."""
    steps = getattr(args, "steps", 3)
    threads = [int(t) for t in str(getattr(args, "threads", "2,1")).split(",") if t]
    families = str(getattr(args, "pipelines", ",".join(PIPELINES))).split(",")
    stages = [int(s) for s in str(getattr(args, "gansynth_stages", "0")).split(",") if s]
    out = frontend_rows(threads, max(steps, 5)) if threads else []
    return out + pipeline_rows([f for f in families if f], steps, stages)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", default="2,1",
                        help="thread counts of the front-end rows ('' for none)")
    parser.add_argument("--pipelines", default=",".join(PIPELINES),
                        help="families of the pipeline rows ('' for none)")
    parser.add_argument("--gansynth_stages", default="0",
                        help="GANSynth stages whose paper-width train step is measured")
    parser.add_argument("--frontend_worker", type=int, default=0, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)
    if args.frontend_worker:
        for row in frontend_worker(args.frontend_worker, args.steps):
            print(json.dumps(row), flush=True)
        return 0
    from benchmark import standalone  # tools/ is on sys.path when this file runs as a script

    return standalone(rows, parser, argv)


if __name__ == "__main__":
    sys.exit(main())

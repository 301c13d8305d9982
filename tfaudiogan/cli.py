"""The ``tfaudiogan`` command: generate | translate | export | check-serving | datasets | info.

    tfaudiogan generate --model runs/wavegan_sc09/demo/export/wavegan_sc09 --n 100 out/
    tfaudiogan generate --model saved_models/wavegan_sc09 --interpolate 8 out/
    tfaudiogan generate --model saved_models/gansynth_nsynth --pitch 60 --n 8 out/
    tfaudiogan generate --model saved_models/gansynth_nsynth --sweep 36 84 out/
    tfaudiogan generate --model saved_models/gansynth_nsynth --midi song.mid song.wav
    tfaudiogan translate --model saved_models/cyclegan_irmas --direction a2b in.wav out.wav
    tfaudiogan export --run runs/cyclegan_irmas/demo --out saved_models
    tfaudiogan export --run runs/gansynth_nsynth/demo     (any family: the run's config says which)
    tfaudiogan check-serving saved_models/cyclegan_irmas
    tfaudiogan datasets --dataset irmas --data_dir IRMAS-TrainingData
    tfaudiogan info                       # devices, strategy, precision a run would use

TensorFlow's native start-up notices are kept off the console; ``--verbose`` (anywhere on the
command line) shows them.

Bad input ends with one ``error: ...`` line and exit code 2; no partial output file is left.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

from tfaudiogan.console import filter_native_stderr

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ INFO/WARNING lines

DIRECTIONS = {"a2b": "translate_a_to_b", "b2a": "translate_b_to_a"}


def _progress(message: str) -> None:
    print(message, flush=True)


def _write_int16(path: Path, audio: np.ndarray, rate: int) -> None:
    """Writes int16 samples unchanged to a 16-bit WAV, atomically (temp file + rename)."""
    import soundfile

    tmp = path.with_name(f".tmp-{path.name}")
    try:
        soundfile.write(tmp, audio, rate, subtype="PCM_16", format="WAV")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_count(args) -> None:
    if args.interpolate is not None and args.interpolate < 2:
        raise ValueError(f"--interpolate needs at least 2 steps, got {args.interpolate}")
    if args.interpolate is None and args.n <= 0:
        raise ValueError(f"--n must be a positive number of clips, got {args.n}")
    if args.batch_size < 1:
        raise ValueError(f"--batch_size must be positive, got {args.batch_size}")


def _draw(rng: np.random.Generator, shape, distribution: str) -> np.ndarray:
    """Latents from the export's ``latent_distribution`` (WaveGAN: U(-1, 1); GANSynth: N(0, 1))."""
    if distribution.startswith("normal"):
        return rng.standard_normal(shape).astype(np.float32)
    return rng.uniform(-1, 1, shape).astype(np.float32)


def _latents(args, latent_dim: int, distribution: str = "uniform") -> np.ndarray:
    """The z batch of ``generate``: random draws, or a straight line between two draws."""
    _check_count(args)
    rng = np.random.default_rng(args.seed)
    if args.interpolate is not None:
        ends = _draw(rng, (2, latent_dim), distribution)
        t = np.linspace(0.0, 1.0, args.interpolate)[:, None]
        return ((1 - t) * ends[0] + t * ends[1]).astype(np.float32)
    return _draw(rng, (args.n, latent_dim), distribution)


def _render_midi(args, signature, meta: dict, latent_dim: int) -> None:
    """``generate --midi song.mid out.wav``: renders a MIDI file with a pitch-conditioned export.

    ``--timbre random`` (default, GANSynth's generate script): a new random instrument every
    ``--seconds_per_instrument`` seconds, notes slerped between neighbours; ``fixed``: one
    latent for the whole file; ``start_end`` (or ``--interpolate_timbre``): a latent that moves
    from one draw to another over the piece. ``--normalise max`` is the reference's
    ``x /= x.max()``, ``peak`` divides by ``max |x|``.
    """
    import tensorflow as tf

    from tfaudiogan.audio.io import save_audio
    from tfaudiogan.export.signatures import check_inputs
    from tfaudiogan.generation.midi import random_instruments, render_midi

    rate = int(meta["sample_rate"])
    distribution = meta.get("latent_distribution", "normal")
    rng = np.random.default_rng(args.seed)
    timbre = "start_end" if args.interpolate_timbre else args.timbre
    z_start = z_end = instruments = None
    if timbre == "random":  # z ~ N(0, I): pitch-conditioned exports draw normal latents
        instruments = functools.partial(random_instruments, latent_dim=latent_dim, rng=rng,
                                        seconds_per_instrument=args.seconds_per_instrument)
    else:
        z_start = _draw(rng, (latent_dim,), distribution)
        z_end = _draw(rng, (latent_dim,), distribution) if timbre == "start_end" else None

    specs = signature.structured_input_signature[1]

    def generate_fn(z, pitch):
        inputs = check_inputs({"z": z, "pitch": pitch}, specs, meta, "generate")
        return signature(**{k: tf.constant(v) for k, v in inputs.items()})["audio"].numpy()

    _progress(f"rendering {args.midi} with {timbre} timbre")
    start = time.perf_counter()
    audio, stats = render_midi(args.midi, generate_fn, z_start, z_end, sample_rate=rate,
                               batch_size=args.batch_size, instruments=instruments,
                               normalisation=args.normalise)
    save_audio(args.out_dir, np.clip(audio, -1.0, 1.0), rate)
    _progress(f"rendered {stats['rendered']} of {stats['notes']} notes "
              f"({stats['skipped_out_of_range']} outside the range skipped) in "
              f"{time.perf_counter() - start:.1f} s; wrote {args.out_dir}")


def cmd_generate(args) -> None:
    """Writes generated clips (16-bit WAV, ``x * 32767`` clipped as the reference) and z.npy."""
    _check_count(args)  # before TensorFlow loads: bad counts fail at once
    import tensorflow as tf

    from tfaudiogan.export.generator import to_int16
    from tfaudiogan.export.saved_model import read_metadata, resolve_version_dir
    from tfaudiogan.export.signatures import check_inputs

    version_dir = resolve_version_dir(args.model)
    meta = read_metadata(version_dir)
    latent_dim = meta.get("latent_dim")
    if not latent_dim:
        raise ValueError(f"'{version_dir}' is not a generator export (no latent_dim in its "
                         "metadata)")
    if args.midi is not None and not Path(args.midi).is_file():
        raise FileNotFoundError(f"MIDI file '{args.midi}' does not exist")
    rate = int(meta["sample_rate"])
    model = tf.saved_model.load(str(version_dir))
    signature = model.signatures["generate"]
    specs = signature.structured_input_signature[1]
    takes_pitch = "pitch" in specs
    if args.midi is not None:
        if not takes_pitch:
            raise ValueError(f"'{version_dir}' takes no pitch, so it cannot render MIDI")
        _render_midi(args, signature, meta, int(latent_dim))
        return
    if args.sweep is not None and not takes_pitch:
        raise ValueError(f"'{version_dir}' takes no pitch, so it cannot sweep pitches")
    if takes_pitch and args.pitch is None and args.sweep is None:
        raise ValueError(f"'{version_dir}' is pitch-conditioned: pass --pitch (MIDI number) or "
                         "--sweep LOW HIGH")
    if args.pitch is not None and not takes_pitch:
        raise ValueError(f"'{version_dir}' takes no pitch; drop --pitch")
    z = _latents(args, int(latent_dim), meta.get("latent_distribution", "uniform"))
    pitches = np.full([len(z)], -1 if args.pitch is None else args.pitch, np.int32)
    stem = "interp" if args.interpolate is not None else "sample"
    if args.sweep is not None:  # one latent (the first draw) at every pitch: same timbre
        low, high = args.sweep
        if low > high:
            raise ValueError(f"--sweep needs LOW <= HIGH, got {low} {high}")
        pitches = np.arange(low, high + 1, dtype=np.int32)
        z, stem = np.repeat(z[:1], len(pitches), axis=0), "sweep"
    inputs = check_inputs({"z": z, "pitch": pitches} if takes_pitch else {"z": z}, specs, meta,
                          "generate")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    length = meta.get("audio_length", "?")
    _progress(f"generating {len(z)} clips of {length} samples at {rate} Hz "
              f"with {version_dir}")
    start = time.perf_counter()
    for first in range(0, len(z), args.batch_size):
        batch = {k: tf.constant(v[first:first + args.batch_size]) for k, v in inputs.items()}
        audio = signature(**batch)["audio"].numpy()
        for i, clip in enumerate(to_int16(audio)):
            name = (f"{stem}_pitch_{pitches[first + i]}" if stem == "sweep"
                    else f"{stem}_{first + i:05d}")
            _write_int16(out_dir / f"{name}.wav", clip, rate)
        _progress(f"  {first + len(audio)}/{len(z)} clips")
    np.save(out_dir / "z.npy", z)
    seconds = time.perf_counter() - start
    _progress(f"wrote {len(z)} WAV files and z.npy to {out_dir} in {seconds:.1f} s")


def cmd_translate(args) -> None:
    """Translates one audio file of any length with an exported CycleGAN."""
    import tensorflow as tf

    from tfaudiogan.audio.io import load_audio, resample, save_audio, to_mono
    from tfaudiogan.export.saved_model import read_metadata, resolve_version_dir
    from tfaudiogan.export.signatures import check_waveform_batch

    version_dir = resolve_version_dir(args.model)
    meta = read_metadata(version_dir)
    rate = int(meta["sample_rate"])
    if not Path(args.input).exists():
        raise FileNotFoundError(f"input file '{args.input}' does not exist")
    source = load_audio(args.input, None, mono=False)  # [samples, channels]
    source_rate = _file_rate(args.input)
    if source.shape[1] > 1:
        _progress(f"downmixing {source.shape[1]} channels to mono")
    wave = resample(to_mono(source), source_rate, rate)
    batch = check_waveform_batch(wave, min_samples=int(meta.get("min_samples", 1)))
    domains = meta.get("domains", ["a", "b"])
    src, dst = domains if args.direction == "a2b" else domains[::-1]
    _progress(f"{args.input}: {len(wave) / rate:.1f} s at {rate} Hz; translating {src} -> {dst} "
              f"with {version_dir}")
    start = time.perf_counter()
    model = tf.saved_model.load(str(version_dir))
    _progress(f"model loaded in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    out = model.signatures[DIRECTIONS[args.direction]](waveform=tf.constant(batch))["waveform"]
    seconds = time.perf_counter() - start
    audio = out.numpy()[0]
    _progress(f"translated {len(audio) / rate:.1f} s of audio in {seconds:.1f} s "
              f"({len(audio) / rate / max(seconds, 1e-9):.1f}x real time)")
    if args.keep_rate and source_rate != rate:
        audio = resample(audio, rate, source_rate)
        rate = source_rate
    save_audio(args.output, np.clip(audio, -1.0, 1.0), rate)
    _progress(f"wrote {args.output} ({rate} Hz)")


def _file_rate(path: str) -> int:
    import soundfile

    return soundfile.info(path).samplerate


def cmd_export(args) -> None:
    """Exports the generators of a finished run of any family (SavedModel + TFLite)."""
    from tfaudiogan.export.runs import run_spec
    from tfaudiogan.export.spec import export_model

    family, spec = run_spec(args.run)
    _progress(f"exporting {args.run} ({family.label}) to {args.out}")
    paths = export_model(spec, args.out)
    for kind, path in paths.items():
        _progress(f"{kind}: {path}")


def cmd_check_serving(args) -> None:
    """Loads a SavedModel the way TF Serving does and answers a REST request per signature."""
    from tfaudiogan.export.serving import (
        ServedModel,
        probe_body,
        rest_predict,
        saved_model_cli_show,
    )

    served = ServedModel.load(args.model)
    _progress(saved_model_cli_show(served.version_dir))
    for signature in served.metadata.get("signatures", sorted(served.loaded.signatures)):
        reply = rest_predict(served, probe_body(served, signature))
        if "error" in reply:
            raise RuntimeError(f"signature {signature} failed: {reply['error']}")
        shapes = {k: np.shape(v) for k, v in reply["outputs"].items()} if isinstance(
            reply["outputs"], dict) else np.shape(reply["outputs"])
        _progress(f"{signature}: REST request ok, output shape {shapes}")
    _progress(f"{served.version_dir} is ready for TensorFlow Serving")


def cmd_info(args) -> None:
    """What a training run would use here (``--strategy auto``): devices, strategy, precision,
    and whether Keras turns XLA on by itself."""
    import keras
    import tensorflow as tf

    from tfaudiogan.training import precision
    from tfaudiogan.training.strategy import describe_setup, get_strategy

    for part in describe_setup(get_strategy("auto")).split("; "):
        _progress(part)
    _progress(f"--precision mixed would use {precision.describe(precision.policy_name('mixed'))}")
    xla = "on" if tf.config.list_physical_devices("GPU") else "off"
    _progress(f"keras {keras.__version__}; XLA with jit_compile='auto': {xla}")


def cmd_datasets(args) -> None:
    """Lists the dataset registry (``tfaudiogan.data.DATASETS``), or what one reader finds in
    ``--data_dir`` (file counts; nothing is decoded)."""
    from tfaudiogan import data

    if args.data_dir is None:
        names = list(data.DATASETS) if args.dataset is None else [args.dataset]
        for name in names:
            spec = data.dataset_spec(name)
            defaults = ", ".join(f"{k}={v!r}" for k, v in spec.options().items() if k != "log")
            _progress(f"{name}: {spec.description}")
            _progress(f"  reads: {'built in (no --data_dir)' if spec.builtin else '--data_dir'}; "
                      f"splits: {', '.join(spec.splits)}")
            _progress(f"  defaults: {defaults}")
            _progress(f"  returns: {spec.returns}")
        return
    name = args.dataset or "irmas"
    rows = data.inspect_data(name, args.data_dir)
    _progress(f"{name} in {args.data_dir}:")
    for what, count, unit in rows:
        _progress(f"  {what}: {count} {unit}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfaudiogan", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write clips from an exported generator (16-bit WAV)")
    g.add_argument("--model", required=True, help="SavedModel dir (or its versions' parent)")
    g.add_argument("--n", type=int, default=100,
                   help="number of clips (random z as the export's latent_distribution: "
                        "U(-1, 1) for WaveGAN/SpecGAN, N(0, 1) for GANSynth and the DDSP-GAN)")
    g.add_argument("--interpolate", type=int, default=None, metavar="STEPS",
                   help="instead of --n: STEPS clips along the straight line between two "
                        "random latents (endpoints included)")
    g.add_argument("--seed", type=int, default=0, help="seed of the latents")
    g.add_argument("--batch_size", type=int, default=64, help="clips per generator call")
    g.add_argument("--pitch", type=int, default=None,
                   help="MIDI pitch for pitch-conditioned generators")
    g.add_argument("--sweep", type=int, nargs=2, default=None, metavar=("LOW", "HIGH"),
                   help="pitch-conditioned generators: one latent at every MIDI pitch "
                        "LOW..HIGH (consistent timbre), written as sweep_pitch_<p>.wav")
    g.add_argument("--midi", default=None,
                   help="render this MIDI file with a pitch-conditioned generator (GANSynth); "
                        "the positional argument is then the output .wav")
    g.add_argument("--timbre", choices=("random", "fixed", "start_end"), default="random",
                   help="with --midi: 'random' = a new random instrument every "
                        "--seconds_per_instrument s, slerped between neighbours (GANSynth's "
                        "generate script); 'fixed' = one latent; 'start_end' = slerp from one "
                        "draw to another over the piece")
    g.add_argument("--seconds_per_instrument", type=float, default=6.0,
                   help="with --timbre random: seconds between instruments (reference 6.0)")
    g.add_argument("--normalise", choices=("max", "peak"), default="max",
                   help="with --midi: 'max' = the reference's x / x.max() per note and clip; "
                        "'peak' = x / max|x|")
    g.add_argument("--interpolate_timbre", action="store_true",
                   help="with --midi: same as --timbre start_end")
    g.add_argument("out_dir", help="output folder (or the output .wav with --midi)")
    g.set_defaults(func=cmd_generate)
    t = sub.add_parser("translate", help="translate an audio file with an exported CycleGAN")
    t.add_argument("--model", required=True, help="SavedModel dir (or its versions' parent)")
    t.add_argument("--direction", choices=sorted(DIRECTIONS), default="a2b")
    t.add_argument("--keep_rate", action="store_true",
                   help="write the output at the input file's sample rate")
    t.add_argument("input")
    t.add_argument("output")
    t.set_defaults(func=cmd_translate)
    e = sub.add_parser("export", help="export a finished run of any family as SavedModel + "
                       "TFLite")
    e.add_argument("--run", required=True,
                   help="run directory (config.json + the generators the run saved; the family "
                        "is recognised from the config)")
    e.add_argument("--out", default="saved_models", help="export root (TF Serving layout)")
    e.set_defaults(func=cmd_export)
    c = sub.add_parser("check-serving", help="check a SavedModel the way TF Serving loads it")
    c.add_argument("model")
    c.set_defaults(func=cmd_check_serving)
    d = sub.add_parser("datasets", help="list the dataset registry or inspect a data directory")
    d.add_argument("--dataset", default=None, metavar="NAME",
                   help="one registry entry (default: all of them; with --data_dir: irmas)")
    d.add_argument("--data_dir",
                   help="count what the --dataset reader finds in this folder (irmas, folders, "
                        "sc09, audio_folder, nsynth)")
    d.set_defaults(func=cmd_datasets)
    i = sub.add_parser("info", help="devices, strategy and precision a training run would use")
    i.set_defaults(func=cmd_info)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)  # outputs are written atomically: an error leaves no partial file
    except (ValueError, FileNotFoundError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def entry() -> int:
    """The ``tfaudiogan`` command (and ``python -m tfaudiogan.cli``): :func:`main` with
    TensorFlow's native notices kept off the console unless ``--verbose`` is given."""
    argv = sys.argv[1:]
    if "--verbose" in argv:
        argv.remove("--verbose")
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        filter_native_stderr()
    return main(argv)


if __name__ == "__main__":
    sys.exit(entry())

"""Rendering a MIDI file with a pitch-conditioned note generator (GANSynth's generate script).

Behaviour of the reference ``lib/generate_util.py`` (reference/gansynth.md section 6):

* notes outside MIDI 36-84 are dropped (here: skipped and counted in the stats);
* each note gets a latent vector. The reference (``gansynth_generate.py`` with
  ``get_random_instruments`` / ``get_z_notes``): a new random instrument every
  ``seconds_per_instrument`` seconds, ``n = int(T / seconds)`` latents at
  ``linspace(-1e-4, T, n)`` with ``T`` the end of the last note, and each note the spherical
  interpolation between the two instruments around its onset (:func:`random_instruments`,
  :func:`instrument_latents`). Options kept beside it: a fixed ``z_start`` ("consistent
  timbre"), or ``z_start`` -> ``z_end`` slerped over the onsets (timbre morphing);
* one 4 s note is generated per MIDI note, shaped by a 10 ms linear attack, a sustain of
  min(note length, 3.0 s) and a 0.3 s linear release, normalised times velocity / 127 and
  added at its onset;
* the clip lasts until the last note end plus 3 s and is normalised, then halved (0.5).
* normalisation ``"max"`` is the reference's ``x /= x.max()`` (the largest sample, not the
  largest magnitude: a note whose negative swing is larger keeps |x| > 1 until the final
  step); ``"peak"`` divides by ``max |x|`` instead (this module's earlier behaviour).

The Standard MIDI File reader is a small parser written here (formats 0 and 1; note on/off
with running status, tempo changes, ticks-per-beat and SMPTE time divisions; sysex and meta
events skipped), so no MIDI library is a dependency. :func:`write_midi` writes format-0 files
(tests, and users turning note lists into files).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tfaudiogan.generation.latent import _generate, slerp

__all__ = ["NORMALISATIONS", "Note", "instrument_latents", "random_instruments", "read_midi",
           "render_midi", "write_midi"]

RENDER_MIN_PITCH, RENDER_MAX_PITCH = 36, 84  # generate_util.load_midi(min_pitch=36, max_pitch=84)
ATTACK_SECONDS = 0.01  # generate_util.combine_notes: 10 ms linear attack
MAX_SUSTAIN_SECONDS = 3.0  # generate_util MAX_NOTE_LENGTH (magenta#1458 fix)
RELEASE_SECONDS = 0.3  # generate_util.combine_notes: 0.3 s linear release
TAIL_SECONDS = 3.0  # the clip runs to the last note end + 3 s
OUTPUT_PEAK = 0.5  # the final clip is normalised to its max, then x 0.5
DEFAULT_TEMPO = 500_000  # microseconds per beat (120 bpm), the SMF default
SECONDS_PER_INSTRUMENT = 6.0  # gansynth_generate.py --secs_per_instrument (gansynth.md 6)
NORMALISATIONS = ("max", "peak")  # generate_util: x /= x.max(); or max |x|


@dataclass(frozen=True)
class Note:
    """One note: MIDI ``pitch``, ``velocity`` 1..127, ``start``/``end`` in seconds."""

    pitch: int
    velocity: int
    start: float
    end: float
    channel: int = 0


def _varlen(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        if pos >= len(data):
            raise ValueError("truncated MIDI file (variable-length number)")
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
    raise ValueError("malformed MIDI variable-length number")


def _chunks(data: bytes):
    pos = 0
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + length > len(data):
            raise ValueError(f"truncated MIDI file ({kind!r} chunk)")
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 8 + length


def _track_events(track: bytes):
    """Yields (absolute tick, kind, payload): ("on"/"off", (channel, pitch, velocity)) or
    ("tempo", microseconds per beat)."""
    pos, tick, status = 0, 0, None
    while pos < len(track):
        delta, pos = _varlen(track, pos)
        tick += delta
        if pos >= len(track):
            raise ValueError("truncated MIDI track")
        byte = track[pos]
        if byte == 0xFF:  # meta event
            kind = track[pos + 1]
            length, pos = _varlen(track, pos + 2)
            payload = track[pos : pos + length]
            pos += length
            if kind == 0x51 and length == 3:
                yield tick, "tempo", int.from_bytes(payload, "big")
            elif kind == 0x2F:
                return
            continue
        if byte in (0xF0, 0xF7):  # sysex
            length, pos = _varlen(track, pos + 1)
            pos += length
            continue
        if byte & 0x80:
            status, pos = byte, pos + 1
        elif status is None:
            raise ValueError("MIDI data byte without a status byte")
        kind, channel = status & 0xF0, status & 0x0F
        size = 1 if kind in (0xC0, 0xD0) else 2
        args = track[pos : pos + size]
        pos += size
        if len(args) < size:
            raise ValueError("truncated MIDI channel message")
        if kind == 0x90 and args[1] > 0:
            yield tick, "on", (channel, args[0], args[1])
        elif kind == 0x80 or kind == 0x90:
            yield tick, "off", (channel, args[0], 0)


def read_midi(source: str | os.PathLike | bytes, skip_drums: bool = True) -> list[Note]:
    """Parses a Standard MIDI File into notes sorted by onset.

    Args:
        source: a path or the file's bytes.
        skip_drums: drop notes on channel 10 (index 9), the General MIDI percussion channel.

    Returns:
        ``Note`` list (seconds from the tempo map). A note still held at the end of its track
        ends at the track's last event.

    Raises:
        ValueError: not a MIDI file, or a truncated/malformed one.
    """
    data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    if data[:4] != b"MThd":
        raise ValueError("not a Standard MIDI File (no MThd header)")
    chunks = list(_chunks(data))
    if not chunks or len(chunks[0][1]) < 6:
        raise ValueError("not a Standard MIDI File (no MThd header)")
    _, _, division = struct.unpack(">HHh", chunks[0][1][:6])
    tracks = [list(_track_events(body)) for kind, body in chunks[1:] if kind == b"MTrk"]
    tempos = sorted((t, v) for events in tracks for t, kind, v in events if kind == "tempo")

    if division < 0:  # SMPTE: -frames per second in the high byte, ticks per frame low
        fps, per_frame = -(division >> 8), division & 0xFF
        fps = 29.97 if fps == 29 else fps

        def seconds(tick):
            return tick / (fps * per_frame)
    else:
        if division == 0:
            raise ValueError("MIDI header has 0 ticks per beat")
        marks = [(0, 0.0, DEFAULT_TEMPO)]  # (tick, seconds at tick, tempo from there)
        for tick, tempo in tempos:
            t0, s0, tempo0 = marks[-1]
            marks.append((tick, s0 + (tick - t0) * tempo0 / 1e6 / division, tempo))

        def seconds(tick):
            t0, s0, tempo0 = next(m for m in reversed(marks) if m[0] <= tick)
            return s0 + (tick - t0) * tempo0 / 1e6 / division

    notes = []
    for events in tracks:
        held: dict[tuple[int, int], list[tuple[int, int]]] = {}
        last = events[-1][0] if events else 0
        for tick, kind, payload in events:
            if kind == "tempo":
                continue
            channel, pitch, velocity = payload
            if kind == "on":
                held.setdefault((channel, pitch), []).append((tick, velocity))
            elif held.get((channel, pitch)):
                start, vel = held[(channel, pitch)].pop(0)
                notes.append(Note(pitch, vel, seconds(start), seconds(tick), channel))
        for (channel, pitch), starts in held.items():
            notes += [Note(pitch, vel, seconds(s), seconds(last), channel) for s, vel in starts]
    if skip_drums:
        notes = [n for n in notes if n.channel != 9]
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def write_midi(path: str | os.PathLike, notes: Sequence[Note], ticks_per_beat: int = 480,
               tempo: int = DEFAULT_TEMPO) -> None:
    """Writes ``notes`` as a format-0 Standard MIDI File (one tempo)."""
    per_second = ticks_per_beat * 1e6 / tempo
    events = []
    for n in notes:
        on, off = round(n.start * per_second), round(n.end * per_second)
        events.append((on, 1, bytes([0x90 | n.channel, n.pitch, n.velocity])))
        events.append((off, 0, bytes([0x80 | n.channel, n.pitch, 0])))
    body, now = bytearray(b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")), 0
    for tick, _, message in sorted(events):
        body += _encode_varlen(tick - now) + message
        now = tick
    body += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks_per_beat)
    with open(path, "wb") as f:
        f.write(header + b"MTrk" + struct.pack(">I", len(body)) + bytes(body))


def _encode_varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def note_envelope(duration: float, sample_rate: int, attack: float = ATTACK_SECONDS,
                  max_sustain: float = MAX_SUSTAIN_SECONDS,
                  release: float = RELEASE_SECONDS) -> np.ndarray:
    """Linear attack to 1, hold until min(duration, max_sustain), linear release to 0."""
    n_attack = max(1, int(round(attack * sample_rate)))
    n_sustain = max(n_attack, int(round(min(duration, max_sustain) * sample_rate)))
    n_release = int(round(release * sample_rate))
    env = np.ones(n_sustain + n_release, np.float32)
    env[:n_attack] = np.linspace(0.0, 1.0, n_attack, endpoint=False)
    env[n_sustain:] = np.linspace(1.0, 0.0, n_release, endpoint=False)
    return env


def random_instruments(total_time: float, latent_dim: int,
                       seconds_per_instrument: float = SECONDS_PER_INSTRUMENT,
                       rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A new random instrument every ``seconds_per_instrument`` (``get_random_instruments``).

    ``n = int(total_time / seconds_per_instrument)`` latents z ~ N(0, I) at times
    ``linspace(-1e-4, total_time, n)``. The reference fails for n < 2 (a clip shorter than two
    instruments); here n is at least 2, so such a clip morphs between two instruments.

    Returns:
        ``(z [n, latent_dim] float32, times [n] float64 seconds)``.
    """
    if seconds_per_instrument <= 0:
        raise ValueError(f"seconds_per_instrument must be positive, got "
                         f"{seconds_per_instrument}")
    rng = np.random.default_rng() if rng is None else rng
    n = max(2, int(total_time / seconds_per_instrument))
    z = rng.standard_normal((n, int(latent_dim))).astype(np.float32)
    return z, np.linspace(-1e-4, float(total_time), n)


def instrument_latents(onsets, z_instruments, times) -> np.ndarray:
    """Each onset's latent: the slerp between the instruments before and after it
    (``get_z_notes``; an onset after the last instrument time uses the last pair, as the
    reference's out-of-bounds fix does).

    Args:
        onsets: ``[notes]`` seconds; z_instruments ``[n, latent]``; times ``[n]`` increasing.

    Returns:
        float32 ``[notes, latent]``.
    """
    onsets, times = np.asarray(onsets, np.float64), np.asarray(times, np.float64)
    z_instruments = np.asarray(z_instruments, np.float32)
    if len(times) < 2 or len(times) != len(z_instruments):
        raise ValueError(f"need >= 2 instruments with one time each, got {len(z_instruments)} "
                         f"latents and {len(times)} times")
    idx = np.clip(np.searchsorted(times, onsets, side="left") - 1, 0, len(times) - 2)
    frac = (onsets - times[idx]) / (times[idx + 1] - times[idx])
    return np.stack([slerp(z_instruments[i], z_instruments[i + 1], f)
                     for i, f in zip(idx, frac)]).astype(np.float32)


def _normalise(x: np.ndarray, how: str) -> np.ndarray:
    """``x / x.max()`` ("max", the reference) or ``x / max |x|`` ("peak"); silence as is."""
    scale = x.max() if how == "max" else np.abs(x).max()
    return x / scale if scale > 0 else x


def render_midi(midi: str | os.PathLike | bytes | Sequence[Note],
                generate_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
                z_start=None, z_end=None, sample_rate: int = 16000,
                min_pitch: int = RENDER_MIN_PITCH, max_pitch: int = RENDER_MAX_PITCH,
                batch_size: int = 8, tail_seconds: float = TAIL_SECONDS,
                output_peak: float = OUTPUT_PEAK, *, instruments=None,
                normalisation: str = "max") -> tuple[np.ndarray, dict]:
    """Renders a MIDI file (or a note list) to one mono clip.

    Args:
        midi: MIDI path or bytes (:func:`read_midi`), or a sequence of :class:`Note`.
        generate_fn: ``(z [n, latent] float32, pitch [n] int32) -> audio [n, samples]``.
        z_start: ``[latent]`` timbre of every note (or of the first onset with ``z_end``).
        z_end: optional ``[latent]`` timbre at the last onset; notes in between slerp.
        instruments: the reference's mode instead of ``z_start``: ``(z [n, latent], times
            [n])``, or a function ``total_time -> (z, times)`` such as
            ``functools.partial(random_instruments, latent_dim=256, rng=rng)``, called with
            the end of the last kept note in onset order (the reference's
            ``notes['end_times'][-1]``); each note slerps between its neighbours.
        sample_rate: Hz of the generator's audio.
        min_pitch, max_pitch: notes outside are skipped and counted (36..84).
        batch_size: notes per ``generate_fn`` call.
        tail_seconds, output_peak: clip end after the last note end, final peak.
        normalisation: "max" (reference ``x /= x.max()``, per note and for the clip) or
            "peak" (``max |x|``).

    Returns:
        ``(audio float32 [samples], stats)``; stats: ``notes`` (in the file), ``rendered``,
        ``skipped_out_of_range``, ``skipped_pitches`` (sorted), ``seconds``, ``instruments``
        (random instruments used; 0 in the fixed / start-end modes).

    Raises:
        ValueError: no notes at all, or none in the pitch range; no or two timbre modes.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got '{normalisation}'")
    if (instruments is None) == (z_start is None):
        raise ValueError("give either z_start (fixed / start-end timbre) or instruments")
    notes = list(midi) if isinstance(midi, (list, tuple)) else read_midi(midi)
    if not notes:
        raise ValueError("the MIDI file contains no notes")
    keep = [n for n in notes if min_pitch <= n.pitch <= max_pitch]
    skipped = sorted({n.pitch for n in notes} - {n.pitch for n in keep})
    if not keep:
        raise ValueError(f"all {len(notes)} notes are outside the model's pitch range "
                         f"{min_pitch}..{max_pitch} (pitches {skipped})")
    starts = np.array([n.start for n in keep])
    if instruments is not None:
        if callable(instruments):
            instruments = instruments(keep[-1].end)
        z = instrument_latents(starts, *instruments)
    elif z_end is None:
        z_start = np.asarray(z_start, np.float32).reshape(-1)
        z = np.repeat(z_start[None], len(keep), axis=0)
    else:
        span = starts.max() - starts.min()
        t = (starts - starts.min()) / span if span > 0 else np.zeros_like(starts)
        z = slerp(np.asarray(z_start, np.float32).reshape(-1),
                  np.asarray(z_end, np.float32).reshape(-1), t)
    pitches = np.array([n.pitch for n in keep], np.int32)
    audio = _generate(generate_fn, z, pitches, batch_size)

    end = max(n.end for n in keep)
    clip = np.zeros(int((end + tail_seconds) * sample_rate), np.float32)
    for note, wave in zip(keep, audio):
        env = note_envelope(note.end - note.start, sample_rate)
        shaped = np.zeros(len(env), np.float32)
        shaped[: min(len(env), len(wave))] = wave[: len(env)]
        shaped = _normalise(shaped * env, normalisation) * (note.velocity / 127.0)
        at = int(round(note.start * sample_rate))
        room = min(len(shaped), len(clip) - at)
        clip[at : at + room] += shaped[:room]
    clip = _normalise(clip, normalisation) * output_peak
    stats = {"notes": len(notes), "rendered": len(keep),
             "skipped_out_of_range": len(notes) - len(keep), "skipped_pitches": skipped,
             "seconds": len(clip) / sample_rate,
             "instruments": 0 if instruments is None else len(instruments[0])}
    return clip, stats

"""Rendering a MIDI file with a pitch-conditioned note generator (GANSynth's generate script).

Behaviour of the reference ``lib/generate_util.py`` (reference/gansynth.md section 6):

* notes outside MIDI 36-84 are dropped (here: skipped and counted in the stats);
* each note gets a latent vector: a fixed ``z_start`` ("consistent timbre"), or, with
  ``z_end``, the spherical interpolation between ``z_start`` and ``z_end`` at the note's
  onset time relative to the last onset (timbre morphing over the piece);
* one 4 s note is generated per MIDI note, shaped by a 10 ms linear attack, a sustain of
  min(note length, 3.0 s) and a 0.3 s linear release, normalised to its peak times
  velocity / 127 and added at its onset;
* the clip lasts until the last note end plus 3 s; the mix is normalised to peak 0.5.

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

__all__ = ["Note", "read_midi", "render_midi", "write_midi"]

RENDER_MIN_PITCH, RENDER_MAX_PITCH = 36, 84  # generate_util.load_midi(min_pitch=36, max_pitch=84)
ATTACK_SECONDS = 0.01  # generate_util.combine_notes: 10 ms linear attack
MAX_SUSTAIN_SECONDS = 3.0  # generate_util MAX_NOTE_LENGTH (magenta#1458 fix)
RELEASE_SECONDS = 0.3  # generate_util.combine_notes: 0.3 s linear release
TAIL_SECONDS = 3.0  # the clip runs to the last note end + 3 s
OUTPUT_PEAK = 0.5  # the final clip is normalised to its max, then x 0.5
DEFAULT_TEMPO = 500_000  # microseconds per beat (120 bpm), the SMF default


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


def render_midi(midi: str | os.PathLike | bytes | Sequence[Note],
                generate_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
                z_start, z_end=None, sample_rate: int = 16000,
                min_pitch: int = RENDER_MIN_PITCH, max_pitch: int = RENDER_MAX_PITCH,
                batch_size: int = 8, tail_seconds: float = TAIL_SECONDS,
                output_peak: float = OUTPUT_PEAK) -> tuple[np.ndarray, dict]:
    """Renders a MIDI file (or a note list) to one mono clip.

    Args:
        midi: MIDI path or bytes (:func:`read_midi`), or a sequence of :class:`Note`.
        generate_fn: ``(z [n, latent] float32, pitch [n] int32) -> audio [n, samples]``.
        z_start: ``[latent]`` timbre of every note (or of the first onset with ``z_end``).
        z_end: optional ``[latent]`` timbre at the last onset; notes in between slerp.
        sample_rate: Hz of the generator's audio.
        min_pitch, max_pitch: notes outside are skipped and counted (36..84).
        batch_size: notes per ``generate_fn`` call.
        tail_seconds, output_peak: clip end after the last note end, final peak.

    Returns:
        ``(audio float32 [samples], stats)``; stats: ``notes`` (in the file), ``rendered``,
        ``skipped_out_of_range``, ``skipped_pitches`` (sorted), ``seconds``.

    Raises:
        ValueError: no notes at all, or none in the pitch range.
    """
    notes = list(midi) if isinstance(midi, (list, tuple)) else read_midi(midi)
    if not notes:
        raise ValueError("the MIDI file contains no notes")
    keep = [n for n in notes if min_pitch <= n.pitch <= max_pitch]
    skipped = sorted({n.pitch for n in notes} - {n.pitch for n in keep})
    if not keep:
        raise ValueError(f"all {len(notes)} notes are outside the model's pitch range "
                         f"{min_pitch}..{max_pitch} (pitches {skipped})")
    z_start = np.asarray(z_start, np.float32).reshape(-1)
    starts = np.array([n.start for n in keep])
    if z_end is None:
        z = np.repeat(z_start[None], len(keep), axis=0)
    else:
        span = starts.max() - starts.min()
        t = (starts - starts.min()) / span if span > 0 else np.zeros_like(starts)
        z = slerp(z_start, np.asarray(z_end, np.float32).reshape(-1), t)
    pitches = np.array([n.pitch for n in keep], np.int32)
    audio = _generate(generate_fn, z, pitches, batch_size)

    end = max(n.end for n in keep)
    clip = np.zeros(int((end + tail_seconds) * sample_rate), np.float32)
    for note, wave in zip(keep, audio):
        env = note_envelope(note.end - note.start, sample_rate)
        shaped = np.zeros(len(env), np.float32)
        shaped[: min(len(env), len(wave))] = wave[: len(env)]
        shaped *= env
        peak = np.abs(shaped).max()
        if peak > 0:
            shaped *= note.velocity / 127.0 / peak
        at = int(round(note.start * sample_rate))
        room = min(len(shaped), len(clip) - at)
        clip[at : at + room] += shaped[:room]
    peak = np.abs(clip).max()
    if peak > 0:
        clip *= output_peak / peak
    stats = {"notes": len(notes), "rendered": len(keep),
             "skipped_out_of_range": len(notes) - len(keep), "skipped_pitches": skipped,
             "seconds": len(clip) / sample_rate}
    return clip, stats

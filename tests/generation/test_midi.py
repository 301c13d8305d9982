"""MIDI reading/writing, rendering with a fake sine generator, pitch sweeps, latent helpers."""

import struct

import numpy as np
import pytest

from tfaudiogan.audio.pitch import check_pitches
from tfaudiogan.generation.latent import interpolate_latents, pitch_sweep, slerp
from tfaudiogan.generation.midi import (
    Note,
    instrument_latents,
    note_envelope,
    random_instruments,
    read_midi,
    render_midi,
    write_midi,
)

SR = 16000


class SineGenerator:
    """generate_fn stand-in: a 4 s sine at the requested pitch; records its inputs."""

    def __init__(self):
        self.z, self.pitches = [], []

    def __call__(self, z, pitch):
        z, pitch = np.asarray(z), np.asarray(pitch)
        assert z.ndim == 2 and pitch.dtype == np.int32 and len(z) == len(pitch)
        self.z.append(z)
        self.pitches.append(pitch)
        hz = 440.0 * 2.0 ** ((pitch[:, None] - 69) / 12.0)
        return np.sin(2 * np.pi * hz * np.arange(64000)[None] / SR).astype(np.float32)


def _peak_hz(segment):
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    return np.argmax(spectrum) * SR / len(segment)


def test_write_read_round_trip(tmp_path):
    notes = [Note(60, 100, 0.0, 1.0), Note(64, 50, 0.5, 1.25), Note(67, 127, 1.0, 3.0)]
    path = tmp_path / "song.mid"
    write_midi(path, notes, tempo=400_000)
    back = read_midi(path)
    assert [(n.pitch, n.velocity) for n in back] == [(60, 100), (64, 50), (67, 127)]
    for a, b in zip(notes, back):
        assert b.start == pytest.approx(a.start, abs=1e-3)
        assert b.end == pytest.approx(a.end, abs=1e-3)


def _track(events: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(events)) + events


def test_format1_tempo_map_running_status_and_velocity_zero_off():
    # track 0: tempo 120 bpm, at beat 1 change to 60 bpm; track 1: notes with running status
    tempo = (b"\x00\xff\x51\x03" + (500_000).to_bytes(3, "big")
             + b"\x83\x60\xff\x51\x03" + (1_000_000).to_bytes(3, "big") + b"\x00\xff\x2f\x00")
    # 480 ticks/beat: note 60 on at 0, off (vel 0, running status) at beat 1 (480 = 0x83 0x60),
    # note 62 on at beat 1 and off with 0x80 at beat 2; a drum note on channel 10 is skipped.
    notes = (b"\x00\x90\x3c\x64" b"\x83\x60\x3c\x00" b"\x00\x3e\x50" b"\x83\x60\x80\x3e\x00"
             b"\x00\x99\x24\x64" b"\x10\x89\x24\x00" b"\x00\xff\x2f\x00")
    data = b"MThd" + struct.pack(">IHHH", 6, 1, 2, 480) + _track(tempo) + _track(notes)
    got = read_midi(data)
    assert [(n.pitch, n.velocity) for n in got] == [(60, 100), (62, 80)]
    assert got[0].start == 0.0 and got[0].end == pytest.approx(0.5)  # 1 beat at 120 bpm
    assert got[1].start == pytest.approx(0.5) and got[1].end == pytest.approx(1.5)  # at 60 bpm
    assert len(read_midi(data, skip_drums=False)) == 3


def test_not_a_midi_file():
    with pytest.raises(ValueError, match="MThd"):
        read_midi(b"RIFF....WAVEfmt ")


def test_render_fixed_timbre_skips_out_of_range_notes(tmp_path):
    path = tmp_path / "song.mid"
    write_midi(path, [Note(60, 127, 0.0, 1.0), Note(30, 100, 0.2, 0.5),
                      Note(72, 64, 1.0, 2.0), Note(90, 100, 1.5, 1.7)])
    gen = SineGenerator()
    z = np.random.default_rng(0).normal(size=256).astype(np.float32)
    audio, stats = render_midi(path, gen, z)
    assert stats["notes"] == 4 and stats["rendered"] == 2
    assert stats["skipped_out_of_range"] == 2 and stats["skipped_pitches"] == [30, 90]
    assert audio.shape == (int((2.0 + 3.0) * SR),)
    assert audio.max() == pytest.approx(0.5)  # the reference's x / x.max() * 0.5
    assert np.concatenate(gen.pitches).tolist() == [60, 72]
    assert all(np.array_equal(row, z) for row in np.concatenate(gen.z))  # one timbre
    assert _peak_hz(audio[int(0.2 * SR):int(0.9 * SR)]) == pytest.approx(261.6, abs=2)
    assert _peak_hz(audio[int(1.4 * SR):int(1.9 * SR)]) == pytest.approx(523.3, abs=2)
    # velocity 127 vs 64: the first note is about twice as loud as the second
    ratio = np.abs(audio[int(0.2 * SR):int(0.9 * SR)]).max() / np.abs(
        audio[int(1.4 * SR):int(1.9 * SR)]).max()
    assert ratio == pytest.approx(127 / 64, rel=0.02)
    # the release ends 0.3 s after the last note end: silence from 2.3 s on
    assert np.abs(audio[int(2.31 * SR):]).max() == 0.0


def test_render_interpolates_timbre_between_onsets():
    rng = np.random.default_rng(1)
    z0, z1 = rng.normal(size=(2, 16)).astype(np.float32)
    notes = [Note(48 + i, 100, float(i), i + 0.5) for i in range(5)]
    gen = SineGenerator()
    _, stats = render_midi(notes, gen, z0, z1, batch_size=2)
    z = np.concatenate(gen.z)
    assert len(gen.z) == 3 and stats["rendered"] == 5  # batches of 2, 2, 1
    np.testing.assert_allclose(z[0], z0, atol=1e-6)
    np.testing.assert_allclose(z[-1], z1, atol=1e-6)
    np.testing.assert_allclose(z[2], slerp(z0, z1, 0.5), atol=1e-6)


def test_random_instruments_every_few_seconds_as_the_reference():
    z, t = random_instruments(20.0, 16, seconds_per_instrument=6.0,
                              rng=np.random.default_rng(0))
    assert z.shape == (3, 16) and z.dtype == np.float32  # int(20 / 6) = 3 instruments
    np.testing.assert_allclose(t, np.linspace(-1e-4, 20.0, 3))
    again, _ = random_instruments(20.0, 16, 6.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(z, again)  # seeded
    assert len(random_instruments(3.0, 4, 6.0)[0]) == 2  # a short clip still has 2
    with pytest.raises(ValueError, match="seconds_per_instrument"):
        random_instruments(3.0, 4, 0.0)


def test_each_onset_slerps_between_its_neighbouring_instruments():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(3, 16)).astype(np.float32)
    times = np.array([0.0, 4.0, 8.0])
    onsets = [0.0, 1.0, 4.0, 6.0, 8.0, 9.0]
    got = instrument_latents(onsets, z, times)
    np.testing.assert_allclose(got[0], z[0], atol=1e-6)
    np.testing.assert_allclose(got[1], slerp(z[0], z[1], 0.25), atol=1e-6)
    np.testing.assert_allclose(got[2], z[1], atol=1e-6)  # side="left": 4.0 ends pair 0-1
    np.testing.assert_allclose(got[3], slerp(z[1], z[2], 0.5), atol=1e-6)
    np.testing.assert_allclose(got[4], z[2], atol=1e-6)
    # past the last instrument: the last pair, extrapolated (reference out-of-bounds fix)
    np.testing.assert_allclose(got[5], slerp(z[1], z[2], 1.25), atol=1e-5)
    # spherical, not linear: the midpoint of two orthogonal unit vectors has norm 1
    unit = instrument_latents([0.5], np.eye(2, dtype=np.float32), [0.0, 1.0])[0]
    assert np.linalg.norm(unit) == pytest.approx(1.0)


def test_render_with_random_instruments_and_max_normalisation():
    notes = [Note(48 + i, 100, 2.0 * i, 2.0 * i + 1.0) for i in range(7)]  # last ends at 13 s
    gen = SineGenerator()
    seen = []

    def instruments(total_time):
        seen.append(total_time)
        return random_instruments(total_time, 16, 4.0, rng=np.random.default_rng(5))

    audio, stats = render_midi(notes, gen, instruments=instruments)
    assert seen == [13.0] and stats["instruments"] == 3  # int(13 / 4)
    z_inst, times = random_instruments(13.0, 16, 4.0, rng=np.random.default_rng(5))
    np.testing.assert_allclose(np.concatenate(gen.z), instrument_latents(
        [n.start for n in notes], z_inst, times), atol=1e-6)
    assert len({tuple(np.round(row, 4)) for row in np.concatenate(gen.z)}) == 7  # all differ
    assert audio.max() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="either z_start"):
        render_midi(notes, gen)
    with pytest.raises(ValueError, match="normalisation"):
        render_midi(notes, gen, np.zeros(16), normalisation="rms")


def test_max_normalisation_divides_by_the_largest_sample_not_the_largest_magnitude():
    def lopsided(z, pitch):  # a note whose negative swing is twice its positive one
        wave = np.full((len(z), 64000), 0.25, np.float32)
        wave[:, 1::2] = -0.5
        return wave

    note = [Note(60, 127, 0.0, 1.0)]
    ref, _ = render_midi(note, lopsided, np.zeros(4), output_peak=0.5)
    assert ref.max() == pytest.approx(0.5) and ref.min() == pytest.approx(-1.0)
    peak, _ = render_midi(note, lopsided, np.zeros(4), output_peak=0.5, normalisation="peak")
    assert np.abs(peak).max() == pytest.approx(0.5) and peak.min() == pytest.approx(-0.5)


def test_render_rejects_empty_and_all_out_of_range(tmp_path):
    path = tmp_path / "empty.mid"
    write_midi(path, [])
    with pytest.raises(ValueError, match="no notes"):
        render_midi(path, SineGenerator(), np.zeros(8))
    with pytest.raises(ValueError, match="outside"):
        render_midi([Note(100, 100, 0.0, 1.0)], SineGenerator(), np.zeros(8))


def test_note_envelope_shape():
    env = note_envelope(1.0, SR)
    assert len(env) == int(1.3 * SR) and env[0] == 0.0 and env.max() == 1.0
    assert env[int(0.01 * SR)] == 1.0 and env[-1] < 1e-3
    assert len(note_envelope(10.0, SR)) == int(3.3 * SR)  # sustain capped at 3 s


def test_pitch_sweep_keeps_the_latent_fixed():
    gen = SineGenerator()
    z = np.arange(8, dtype=np.float32)
    audio = pitch_sweep(gen, z, range(36, 85), batch_size=16)
    assert audio.shape == (49, 64000)
    assert np.concatenate(gen.pitches).tolist() == list(range(36, 85))
    assert (np.concatenate(gen.z) == z).all()
    with pytest.raises(ValueError, match="outside the model's range"):
        pitch_sweep(gen, z, [60, 85])
    with pytest.raises(ValueError, match="whole"):
        check_pitches([60.5])


def test_latent_interpolation():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    mid = slerp(a, b, 0.5)
    np.testing.assert_allclose(mid, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)  # stays on circle
    path = interpolate_latents(a, b, 5)
    assert path.shape == (5, 2)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(interpolate_latents(a, b, 3, "linear")[1], [0.5, 0.5])
    with pytest.raises(ValueError):
        interpolate_latents(a, b, 1)

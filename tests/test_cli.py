"""The tfaudiogan command: translate, export, check-serving, datasets."""

import numpy as np
import pytest
import soundfile as sf

from tfaudiogan import cli
from tfaudiogan.export.saved_model import read_metadata


def test_exported_model_translates_a_30_second_file(smoke_run, tmp_path):
    model_dir, metrics = smoke_run
    rate = 25_000
    t = np.arange(30 * rate) / rate
    sf.write(tmp_path / "in.wav", 0.3 * np.sin(2 * np.pi * 220 * t), rate, subtype="PCM_16")
    assert cli.main(["translate", "--model", metrics["export"]["saved_model"], "--direction",
                     "b2a", str(tmp_path / "in.wav"), str(tmp_path / "out.wav")]) == 0
    out, out_rate = sf.read(tmp_path / "out.wav")
    assert out_rate == rate and len(out) == 30 * rate and np.all(np.isfinite(out))
    assert (model_dir / "export").glob("*.tflite")


def test_translate_cli_downmixes_stereo_and_keeps_the_rate(smoke_run, tmp_path, capsys):
    _, metrics = smoke_run
    stereo = np.random.default_rng(0).uniform(-0.3, 0.3, (44_100, 2))
    sf.write(tmp_path / "st.wav", stereo, 44_100)
    code = cli.main(["translate", "--model", metrics["export"]["saved_model"], "--keep_rate",
                     str(tmp_path / "st.wav"), str(tmp_path / "o.wav")])
    assert code == 0 and "downmixing 2 channels" in capsys.readouterr().out
    out, rate = sf.read(tmp_path / "o.wav")
    assert rate == 44_100 and len(out) == 44_100


@pytest.mark.parametrize("make_input, message", [
    (lambda p: sf.write(p, np.zeros(100), 25_000), "too short"),
    (lambda p: p.write_bytes(b"not audio at all"), "cannot decode audio file"),
])
def test_translate_cli_bad_input_is_one_line_and_no_output(smoke_run, tmp_path, capsys,
                                                           make_input, message):
    _, metrics = smoke_run
    make_input(tmp_path / "bad.wav")
    code = cli.main(["translate", "--model", metrics["export"]["saved_model"],
                     str(tmp_path / "bad.wav"), str(tmp_path / "out.wav")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and message in err and "\n" not in err
    assert not (tmp_path / "out.wav").exists()


def test_translate_cli_missing_model(tmp_path, capsys):
    code = cli.main(["translate", "--model", str(tmp_path), "a.wav", "b.wav"])
    assert code == 2 and "SavedModel" in capsys.readouterr().err


def test_export_command_writes_a_new_version(smoke_run, tmp_path, capsys):
    model_dir, _ = smoke_run
    assert cli.main(["export", "--run", str(model_dir), "--out", str(tmp_path)]) == 0
    assert cli.main(["export", "--run", str(model_dir), "--out", str(tmp_path)]) == 0
    assert read_metadata(tmp_path / "cyclegan_irmas" / "2")["domains"] == ["piano", "guitar"]
    assert (tmp_path / "cyclegan_irmas_2.tflite").is_file()


def test_export_command_needs_a_run_directory(tmp_path, capsys):
    assert cli.main(["export", "--run", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_check_serving_loads_like_the_server(smoke_run, capsys):
    _, metrics = smoke_run
    assert cli.main(["check-serving", metrics["export"]["saved_model"]]) == 0
    out = capsys.readouterr().out
    assert "translate_a_to_b: REST request ok" in out and "translate_b_to_a" in out
    assert "ready for TensorFlow Serving" in out


def test_datasets_lists_irmas_folders(tmp_path, capsys):
    for code, n in (("pia", 2), ("gel", 1)):
        folder = tmp_path / "IRMAS-TrainingData" / code
        folder.mkdir(parents=True)
        for i in range(n):
            sf.write(folder / f"[{code}][cla]{i:04d}__1.wav", np.zeros(441), 44_100)
    assert cli.main(["datasets", "--data_dir", str(tmp_path / "IRMAS-TrainingData")]) == 2
    err = capsys.readouterr().err  # the other nine instruments are missing
    assert "cel" in err
    assert cli.main(["datasets", "--dataset", "folders", "--data_dir",
                     str(tmp_path / "IRMAS-TrainingData")]) == 0
    out = capsys.readouterr().out
    assert "gel: 1 audio files" in out and "pia: 2 audio files" in out

"""The quiet console of the entry points (tfaudiogan/console.py)."""

import os
import subprocess
import sys

import pytest

from tfaudiogan.console import is_noise

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796582942.366643   21767 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1796583047.886932   21939 cpu_feature_guard.cc:227] This TensorFlow binary",
    "W0000 00:00:1796583047.886932   21939 gpu_device.cc:2365] Cannot dlopen some GPU libraries.",
    "E0000 00:00:1796582954.980290   21767 meta_optimizer.cc:967] remapper failed: "
    "INVALID_ARGUMENT: Mutation::Apply error",
    "E0000 00:00:1796580278.702929    5692 util.cc:131] oneDNN supports DT_STRING only on "
    "platforms with AVX-512.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1796591815.132347   20001 cuda_platform.cc:52] failed call to cuInit: "
    "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "I0000 00:00:1796591729.345655   19653 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.",
]
KEPT = [
    "error: data directory 'x' does not exist",
    "E0000 00:00:1796582954.980290   21767 cuda_driver.cc:152] CUDA_ERROR_OUT_OF_MEMORY",
    "W1206 18:49:22.287967 140521968089984 irmas.py:156] skipping bad file 'a.wav'",
    "Traceback (most recent call last):",
    "UserWarning: something the user should see",
]


@pytest.mark.parametrize("line", NOISE)
def test_known_harmless_native_lines_are_noise(line):
    assert is_noise(line)


@pytest.mark.parametrize("line", KEPT)
def test_errors_warnings_of_ours_and_python_lines_pass(line):
    assert not is_noise(line)


def _help(*extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "tfaudiogan.experiments.ddsp_gan_nsynth",
                           "--help", *extra], capture_output=True, text=True, timeout=120,
                          env=env)


def test_entry_points_start_quietly_and_verbose_brings_the_notices_back():
    quiet, verbose = _help(), _help("--verbose")
    assert "--[no]verbose" in quiet.stdout
    assert "absl::InitializeLog" not in quiet.stderr and "I0000" not in quiet.stderr
    assert "absl::InitializeLog" in verbose.stderr or "I0000" in verbose.stderr


def test_the_cli_is_quiet_too_unless_verbose():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    def info(*extra):
        return subprocess.run([sys.executable, "-m", "tfaudiogan.cli", *extra, "info"],
                              capture_output=True, text=True, timeout=120, env=env)

    quiet, verbose = info(), info("--verbose")
    assert quiet.returncode == verbose.returncode == 0, quiet.stderr[-2000:]
    assert "devices:" in quiet.stdout and "devices:" in verbose.stdout
    assert "absl::InitializeLog" not in quiet.stderr and "I0000" not in quiet.stderr
    assert "absl::InitializeLog" in verbose.stderr or "I0000" in verbose.stderr

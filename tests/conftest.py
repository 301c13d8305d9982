"""Test setup: two logical CPU devices must exist before TensorFlow initialises.

MirroredStrategy tests need ``num_replicas_in_sync == 2`` on this CPU-only machine. Virtual
devices cannot be changed once TF has run an op, so this runs at import time, before any
test module imports TensorFlow code.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


@pytest.fixture
def rng():
    """A seeded NumPy generator, so failures reproduce."""
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """One finished, exported smoke-preset run of the main job: (model_dir, metrics)."""
    from tfaudiogan import configs
    from tfaudiogan.recipes.cyclegan import run

    model_dir = tmp_path_factory.mktemp("smoke_run")
    metrics = run(configs.get_preset("cyclegan_irmas", "smoke"), model_dir, strategy="default",
                  export=True)
    return model_dir, metrics


@pytest.fixture(scope="session")
def tiny_pitch_classifier(tmp_path_factory):
    """Run directory holding an untrained smoke-size ``pitch_classifier.keras`` (1 s input)."""
    from tfaudiogan.configs.pitch_classifier import smoke
    from tfaudiogan.recipes.pitch_classifier import MODEL_FILE, build_classifier

    folder = tmp_path_factory.mktemp("pitch_classifier")
    build_classifier(smoke()).save(folder / MODEL_FILE)
    return folder

"""tfaudiogan.audio.batching.encode_in_batches: order, batch sizes, dtypes and errors."""

import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan.audio.batching import encode_in_batches
from tfaudiogan.audio.representations import CycleGANSpectrogram
from tfaudiogan.audio.spectral import DFTSTFT


def test_slices_in_order_and_concatenates():
    seen = []

    def encode(waves):
        assert isinstance(waves, tf.Tensor) and waves.dtype == tf.float32
        seen.append(int(waves.shape[0]))
        return 2.0 * waves[:, :3, None]  # [b, 3, 1]

    waves = np.arange(7 * 5, dtype=np.float64).reshape(7, 5)  # float64 in, cast to float32
    out = encode_in_batches(encode, waves, batch_size=3)
    assert seen == [3, 3, 1]
    assert isinstance(out, np.ndarray) and out.shape == (7, 3, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], 2.0 * waves[:, :3])
    seen.clear()
    assert encode_in_batches(encode, waves, batch_size=100).shape == (7, 3, 1)
    assert seen == [7]


def test_equals_one_call_of_a_real_representation(rng):
    rep = CycleGANSpectrogram(DFTSTFT(255, 64, 256), drop_nyquist=True)
    waves = (0.3 * rng.standard_normal((5, 2048))).astype(np.float32)
    batched = encode_in_batches(lambda w: rep.encode(w)[0], waves, 2)
    np.testing.assert_allclose(batched, rep.encode(waves)[0].numpy(), atol=1e-6)
    traced = tf.function(lambda w: rep.encode(w)[0])
    np.testing.assert_allclose(encode_in_batches(traced, waves, 2), batched, atol=1e-6)


@pytest.mark.parametrize("waves,batch_size,match", [
    (np.zeros((0, 10)), 4, "non-empty"),
    (np.zeros(10), 4, r"\[n, samples\]"),
    (np.zeros((2, 10)), 0, "batch_size"),
    (np.zeros((2, 10)), 2.5, "batch_size"),
    (np.zeros((2, 10)), True, "batch_size"),
])
def test_bad_input_rejected(waves, batch_size, match):
    with pytest.raises(ValueError, match=match):
        encode_in_batches(lambda w: w, waves, batch_size)

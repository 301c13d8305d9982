"""--precision mixed: the policy choice, one training step of every family under mixed_bfloat16
and mixed_float16 (forced on this CPU), float32 exports of networks built under a mixed policy.

The steps run eagerly (one step of a smoke-size network: tracing would cost more than it saves).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfaudiogan import configs
from tfaudiogan.layers.mixed_precision import compute_in_float32
from tfaudiogan.training import precision

MIXED = ("mixed_bfloat16", "mixed_float16")


@pytest.fixture
def policy(request):
    """Runs the test under the policy named by its parameter, float32 again afterwards."""
    with precision.policy_scope(request.param) as name:
        yield name
    assert keras.mixed_precision.global_policy().name == "float32"


def test_mixed_means_bfloat16_on_this_cpu_and_names_pass_through():
    assert not tf.config.list_physical_devices("GPU")
    assert precision.policy_name("mixed") == "mixed_bfloat16"
    assert precision.policy_name("float32") == "float32"
    assert precision.policy_name("mixed_float16") == "mixed_float16"  # forced (tests)
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.policy_name("float16")
    assert "no loss scaling" in precision.describe("mixed_bfloat16")
    assert "dynamic loss scaling" in precision.describe("mixed_float16")


def test_restores_policy_puts_float32_back_after_an_error():
    @precision.restores_policy
    def fails():
        precision.set_policy("mixed")
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert keras.mixed_precision.global_policy().name == "float32"


# -- one step per family ---------------------------------------------------------------------
def _cyclegan():
    from tfaudiogan.recipes import cyclegan as r

    c = configs.get_preset("cyclegan_irmas", "smoke")
    rep = r.representation(c)
    gan = r.build_gan(c, 10, rep.freq_bins)
    shape = (2, rep.freq_bins, c.train.crop_frames, 1)
    rng = np.random.default_rng(0)
    return gan, tuple(tf.constant(rng.uniform(-1, 1, shape), tf.float32) for _ in "ab")


def _wavegan(kind):
    from tfaudiogan.recipes import wavegan as r

    c = configs.apply_overrides(configs.get_preset(f"{kind}_sc09", "smoke"),
                                ["train.batch_size=2", "loss.d_updates=2"])
    gan = r.build_gan(c)
    shape = (2, 2, *gan.discriminator.inputs[0].shape[1:])
    return gan, tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, shape), tf.float32)


def _gansynth():
    """Stage 1 (a transition) half-way through its fade-in: alpha = 0.5."""
    from tfaudiogan.recipes import gansynth as r

    c = configs.get_preset("gansynth_nsynth", "smoke")
    t = c.train
    gan = r.build_stage(c, 1, np.ones(c.model.num_pitches),
                        images_seen=t.stable_images + t.transition_images // 2)
    rep = r.representation(c)
    specs = np.random.default_rng(0).uniform(-0.9, 0.9, (2, *rep.output_shape))
    return gan, (tf.constant(specs, tf.float32), tf.constant([3, 40], tf.int32))


def _ddsp():
    from tfaudiogan.recipes import ddsp_gan as r

    c = configs.get_preset("ddsp_gan_nsynth", "smoke")
    gan = r.build_gan(c)
    t = np.arange(c.model.n_samples) / c.model.sample_rate
    audio = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t)])
    return gan, {"audio": tf.constant(audio, tf.float32), "pitch": tf.constant([57, 64])}


GANS = {"cyclegan": _cyclegan, "wavegan": lambda: _wavegan("wavegan"),
        "specgan": lambda: _wavegan("specgan"), "gansynth": _gansynth, "ddsp_gan": _ddsp}


def _snapshot(variables):
    return [np.array(v.numpy()) for v in variables]


def _moved(before, variables):
    return sum(not np.array_equal(b, v.numpy()) for b, v in zip(before, variables))


@pytest.mark.parametrize("policy", MIXED, indirect=True)
@pytest.mark.parametrize("family", list(GANS))
def test_one_gan_step_is_finite_and_moves_the_weights(family, policy):
    """bfloat16: the first step updates every network. float16: a step whose scaled gradient
    is not finite is skipped and halves that optimizer's loss scale (2**15 at first, Keras'
    default), so it may take a few steps until each optimizer has applied one update: GANSynth's
    generator took 4-8 steps over 30 seeds (its float16 gradients overflow until the scale is
    2**12-2**8), so up to 12 are allowed. Seeded, so the result does not depend on the tests run
    before it in the process."""
    keras.utils.set_random_seed(0)
    gan, batch = GANS[family]()
    owned = gan.optimizer_variables()
    assert all(v.dtype == "float32" for vs in owned.values() for v in vs)
    optimizers = {name: getattr(gan, name) for name in owned}
    for name, optimizer in optimizers.items():
        is_scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert is_scaled == (policy == "mixed_float16"), name
    before = {name: _snapshot(vs) for name, vs in owned.items()}
    if family == "gansynth":
        assert float(gan.alpha.numpy()) == 1.0  # set by the step from the image counter
    for step in range(1, 13):
        logs = {k: float(v) for k, v in gan.train_step(batch).items()}
        assert logs and all(np.isfinite(v) for v in logs.values()), (step, logs)
        if family == "gansynth" and step == 1:
            assert 0.45 < float(gan.alpha.numpy()) < 0.55  # mid fade-in
        if all(int(o.iterations.numpy()) > 0 for o in optimizers.values()):
            break
    assert step == 1 or policy == "mixed_float16"
    for name, vs in owned.items():
        optimizer = optimizers[name]
        assert int(optimizer.iterations.numpy()) > 0, f"{name} never applied an update"
        if policy == "mixed_float16" and step > 1:
            assert float(optimizer.dynamic_scale.numpy()) <= optimizer.initial_scale
        assert _moved(before[name], vs) >= len(vs) // 2, f"{name} barely moved"


def _sc09_classifier():
    from tfaudiogan.configs.wavegan import ClassifierConfig
    from tfaudiogan.recipes.sc09_classifier import build_classifier

    c = configs.get_preset("sc09_classifier", "smoke")
    assert isinstance(c, ClassifierConfig)
    model = build_classifier(c)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (4, c.data.slice_len)).astype(np.float32)
    return model, x, np.array([0, 1, 2, 3], np.int32)


def _pitch_classifier():
    from tfaudiogan.configs.pitch_classifier import smoke
    from tfaudiogan.recipes.pitch_classifier import build_classifier

    c = smoke()
    model = build_classifier(c)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (4, c.model.audio_length)).astype(np.float32)
    return model, x, np.array([0, 10, 20, 30], np.int32)


@pytest.mark.parametrize("policy", MIXED, indirect=True)
@pytest.mark.parametrize("family", ["sc09_classifier", "pitch_classifier"])
def test_one_classifier_step_is_finite_and_moves_the_weights(family, policy):
    model, x, y = {"sc09_classifier": _sc09_classifier,
                   "pitch_classifier": _pitch_classifier}[family]()
    front = model.get_layer("log_mel" if family == "sc09_classifier" else "log_frequency")
    assert front.compute_dtype == "float32" and model.get_layer("logits").compute_dtype == "float32"
    assert model(x[:1]).dtype == "float32"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (
        policy == "mixed_float16")  # Keras' compile wraps it
    before = _snapshot(model.trainable_variables)
    loss = float(model.train_step((tf.constant(x), tf.constant(y)))["loss"])
    assert np.isfinite(loss)
    if int(model.optimizer.iterations.numpy()) == 1:  # else skipped by the loss scale
        assert _moved(before, model.trainable_variables) >= len(before) // 2
    else:
        assert policy == "mixed_float16"


def test_float16_loss_scaling_scales_the_gradient_and_unscales_the_update():
    """GANModel.minimize seeds the backward pass with the loss scale: with an exactly
    representable scale the update equals the float32 one, and a non-finite gradient skips
    the step and halves the scale."""
    from tfaudiogan.gans.base import GANModel

    with precision.policy_scope("mixed_float16"):
        layer = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
        layer.build((None, 2))
        optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.5),
                                                        initial_scale=1024.0)
        optimizer.build(layer.trainable_variables)
        x = tf.constant([[1e-4, 2e-4]])  # gradients 5e-5-ish: fp16 keeps them only when scaled
        with tf.GradientTape() as tape:
            loss = tf.cast(tf.reduce_sum(layer(x)), tf.float32) * 1e-3
        GANModel.minimize(optimizer, tape, loss, layer.trainable_variables)
        np.testing.assert_allclose(layer.kernel.numpy()[:, 0], [1 - 0.5e-7, 1 - 1e-7], rtol=1e-3)
        with tf.GradientTape() as tape:
            loss = tf.cast(tf.reduce_sum(layer(x)), tf.float32) * np.inf
        kernel = layer.kernel.numpy()
        GANModel.minimize(optimizer, tape, loss, layer.trainable_variables)
        np.testing.assert_array_equal(layer.kernel.numpy(), kernel)
        assert float(optimizer.dynamic_scale.numpy()) == 512.0
        assert int(optimizer.iterations.numpy()) == 1


# -- CycleGAN generators: float32 encoder and norms -----------------------------------------
def _cyclegan_generators():
    from tfaudiogan.models import cyclegan

    keras.utils.set_random_seed(0)
    return {"resnet": (cyclegan.resnet_generator(ngf=4, n_blocks=2), ["c7s1_4", "d8", "d16"]),
            "music_style": (cyclegan.music_style_generator(ngf=4, n_blocks=2), ["d4", "d8"])}


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_cyclegan_generators_run_encoder_and_norms_in_float32(policy):
    """Under mixed_bfloat16 the encoder (convs before the residual blocks, with their pads,
    norms and ReLUs), every instance norm and the output layers compute in float32, the
    residual and up-sampling convs in bfloat16 (models/cyclegan.py, "Mixed precision"): the
    tensors they produce have those dtypes, and the encoder's output equals the float32
    network's to float32 rounding while a bfloat16 conv's output does not."""
    image = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    for kind, (g, encoder) in _cyclegan_generators().items():
        suffixes = ("", "_pad", "_norm", "_relu")
        want = {f"{e}{s}" for e in encoder for s in suffixes}
        want |= {layer.name for layer in g.layers if layer.name.endswith("_norm")}
        want |= {"c7s1_out_tanh"} if kind == "resnet" else {"u_out_crop", "u_out_tanh"}
        got = {layer.name for layer in g.layers[1:] if layer.compute_dtype == "float32"}
        assert got == want, kind
        assert {layer.compute_dtype for layer in g.layers[1:]} == {"float32", "bfloat16"}
        probe_names = [f"{encoder[-1]}_relu", "res1_conv1", "res1_conv1_norm", "res2_add"]
        probe = keras.Model(g.input, [g.get_layer(n).output for n in probe_names])
        mixed = dict(zip(probe_names, probe(image)))
        assert {n: x.dtype for n, x in mixed.items()} == {
            probe_names[0]: "float32", "res1_conv1": "bfloat16", "res1_conv1_norm": "float32",
            "res2_add": "bfloat16"}, kind
        with compute_in_float32(g):
            exact = dict(zip(probe_names, probe(image)))
        encoded = mixed[probe_names[0]].numpy()
        np.testing.assert_allclose(encoded, exact[probe_names[0]].numpy(), atol=1e-5)
        conv = tf.cast(mixed["res1_conv1"], tf.float32).numpy()
        assert np.abs(conv - exact["res1_conv1"].numpy()).max() > 1e-4  # really bfloat16
        assert g(image).dtype == "float32"
        assert g.get_layer(encoder[0]).compute_dtype == "float32"  # own policy back


# -- exports ---------------------------------------------------------------------------------
def _graph_dtypes(saved_model_dir) -> set[str]:
    """Every dtype attribute of every op in the SavedModel's graph and functions."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((saved_model_dir / "saved_model.pb").read_bytes())
    graph = proto.meta_graphs[0].graph_def
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    found = set()
    for node in nodes:
        for attr in node.attr.values():
            if attr.type:
                found.add(tf.dtypes.as_dtype(attr.type).name)
            found.update(tf.dtypes.as_dtype(t).name for t in attr.list.type)
    return found


def _check_float32_export(paths, signature, feed):
    from tfaudiogan.export.tflite import load_interpreter

    loaded = tf.saved_model.load(str(paths["saved_model"]))
    fn = loaded.signatures[signature]
    specs = fn.structured_input_signature[1]
    assert {k: s.dtype.name for k, s in specs.items() if k in feed and feed[k].dtype.kind == "f"
            } == {k: "float32" for k, v in feed.items() if v.dtype.kind == "f"}
    out = {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in feed.items()}).items()}
    assert all(v.dtype == np.float32 for v in out.values())
    assert not {"bfloat16", "half"} & _graph_dtypes(paths["saved_model"])
    runner = load_interpreter(paths["tflite"]).get_signature_runner(signature)
    for details in (runner.get_input_details(), runner.get_output_details()):
        assert all(d["dtype"] in (np.float32, np.int32) for d in details.values())
    lite = runner(**feed)
    assert all(v.dtype == np.float32 for v in lite.values())
    return out, lite


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_the_wavegan_export_of_a_mixed_generator_is_float32(policy, tmp_path):
    """SavedModel and TFLite: float32 in and out, no 16-bit op in the graph, the float32
    network's output (not the bfloat16 one); the .keras file saved as the driver does loads as
    a float32 network."""
    from tfaudiogan.export.generator import export_generator
    from tfaudiogan.recipes import wavegan

    keras.utils.set_random_seed(0)
    config = configs.get_preset("wavegan_sc09", "smoke")
    generator, _ = wavegan.build_networks(config)
    assert generator.get_layer("upconv_1").compute_dtype == "bfloat16"
    z = np.random.default_rng(0).uniform(-1, 1, (2, config.model.latent_dim)).astype(np.float32)
    out, lite = _check_float32_export(
        export_generator(generator, config, tmp_path / "wavegan"), "generate", {"z": z})
    with compute_in_float32(generator):
        want = generator(z)[..., 0].numpy()
    np.testing.assert_allclose(out["audio"], want, atol=1e-6)
    np.testing.assert_allclose(lite["audio"], want, atol=1e-5)
    assert generator.get_layer("upconv_1").compute_dtype == "bfloat16"  # policy restored
    bf16 = generator(z)[..., 0].numpy()  # what the export must not compute
    assert np.abs(bf16 - want).max() > 100 * 1e-6
    with compute_in_float32(generator):  # as the driver saves the .keras files
        generator.save(tmp_path / "generator.keras")
    loaded = keras.models.load_model(tmp_path / "generator.keras")
    assert {layer.dtype_policy.name for layer in loaded.layers[1:]} == {"float32"}  # no Input
    np.testing.assert_allclose(loaded(z)[..., 0].numpy(), want, atol=1e-6)


@pytest.mark.slow  # a DDSP export alone takes ~30 s on the shared 2-core machine
@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_the_ddsp_export_of_a_mixed_generator_is_float32(policy, tmp_path):
    """The synth and the F0 curve are float32 in training too; the rest of the generator is
    switched to float32 for the export."""
    from tests.export.test_ddsp_export import SMALL
    from tfaudiogan.export.ddsp import export_ddsp
    from tfaudiogan.models import ddsp_gan

    keras.utils.set_random_seed(0)
    g = ddsp_gan.generator(**SMALL)
    assert {g.get_layer(n).compute_dtype for n in ("synth", "f0_cppn", "f0_hz")} == {"float32"}
    assert g.get_layer("loudness_cppn").compute_dtype == "bfloat16"
    z = np.random.default_rng(1).standard_normal((2, SMALL["latent_dim"]))
    out, lite = _check_float32_export(export_ddsp(g, None, tmp_path / "ddsp", name="ddsp"),
                                      "generate", {"z": z.astype(np.float32)})
    with compute_in_float32(g):
        want = g(z.astype(np.float32))["audio"].numpy()
    # matmul-DFT noise path and phase accumulation round differently (test_ddsp_export.py)
    np.testing.assert_allclose(out["audio"], want, atol=1e-4)
    np.testing.assert_allclose(lite["audio"], want, atol=5e-4)


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_the_gansynth_export_inverts_in_float32(policy, tmp_path):
    """The IF -> waveform inversion inside the generate signature gets float32 images from a
    float32 network: the export equals the float32 generator plus the inversion."""
    from tests.export.test_gansynth_export import (
        assert_tflite_close,
        four_block_config,
        inputs,
        reference_audio,
    )
    from tfaudiogan.export.gansynth import export_gansynth
    from tfaudiogan.gans.progressive import new_alpha, stage_networks
    from tfaudiogan.recipes import gansynth

    keras.utils.set_random_seed(0)
    config = four_block_config()
    g = stage_networks(6, new_alpha(), **gansynth.model_kwargs(config))["generator_ema"]
    assert g.get_layer("block2_conv0").compute_dtype == "bfloat16"
    assert g.get_layer("fade").compute_dtype == "float32"  # the float32 output head
    z, pitch = inputs()
    out, lite = _check_float32_export(export_gansynth(g, config, tmp_path), "generate",
                                      {"z": z, "pitch": pitch})
    with compute_in_float32(g):
        want = reference_audio(config, g, z, pitch)
    np.testing.assert_allclose(out["audio"], want, atol=1e-5, rtol=1e-4)
    assert_tflite_close(lite["audio"], want)
    mixed = reference_audio(config, g, z, pitch)  # bfloat16 network, float32 inversion
    assert mixed.dtype == np.float32 and np.abs(mixed - want).max() > 1e-3 * np.abs(want).max()


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_the_cyclegan_export_of_a_mixed_generator_is_float32(policy, tmp_path):
    """The translate signatures of generators built under mixed_bfloat16 (float32 encoder and
    norms, bfloat16 residual convs) are float32 throughout and equal the float32 network."""
    from tfaudiogan.audio.chunking import translate_waveform
    from tfaudiogan.audio.representations import spectrogram_from_config
    from tfaudiogan.export.cyclegan import export_translator
    from tfaudiogan.models import cyclegan

    config = configs.get_preset("cyclegan_irmas", "smoke")
    m, t = config.model, config.train
    keras.utils.set_random_seed(0)
    gen_ab, gen_ba = (cyclegan.resnet_generator(m.channels, m.ngf, m.n_blocks, name=n)
                      for n in ("gen_ab", "gen_ba"))
    assert gen_ab.get_layer("res1_conv1").compute_dtype == "bfloat16"
    assert gen_ab.get_layer(f"c7s1_{m.ngf}").compute_dtype == "float32"
    rate = config.spectrogram.sample_rate
    # noise (as tests/export/test_tflite.py): TF and TFLite round the phase of bins near the
    # image's floor differently, which a pure tone has many of
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, (1, rate // 2)).astype(np.float32)
    out, lite = _check_float32_export(export_translator(gen_ab, gen_ba, config, tmp_path),
                                      "translate_a_to_b", {"waveform": wave})
    rep = spectrogram_from_config(config.spectrogram)

    def translate():
        return translate_waveform(wave, lambda x: gen_ab(x, training=False), rep,
                                  t.crop_frames, t.chunk_overlap_frames).numpy()

    with compute_in_float32(gen_ab):
        want = translate()
    np.testing.assert_allclose(out["waveform"], want, atol=1e-5)
    np.testing.assert_allclose(lite["waveform"], want, atol=1e-4)
    assert gen_ab.get_layer("res1_conv1").compute_dtype == "bfloat16"  # policies restored
    assert np.abs(translate() - want).max() > 1e-4  # what the export must not compute


# -- the driver and the flag -----------------------------------------------------------------
def test_driver_run_sets_logs_and_restores_the_policy(tmp_path):
    from tests.training.test_driver import _Config, _LineRecipe
    from tfaudiogan.training import driver

    built = {}

    class Recipe(_LineRecipe):
        def build_model(self, run, x):
            model = super().build_model(run, x)
            built["dense"] = model.layers[-1].compute_dtype
            built["optimizer"] = type(model.optimizer).__name__
            return model

    for choice, policy, optimizer in [("mixed", "mixed_bfloat16", "SGD"),
                                      ("mixed_float16", "mixed_float16", "LossScaleOptimizer")]:
        folder = tmp_path / choice
        metrics = driver.run(Recipe(), _Config(), folder, precision=choice)
        assert np.isfinite(metrics["slope"]) and metrics["epochs_this_session"] == 3
        assert built == {"dense": policy.split("_")[1], "optimizer": optimizer}
        log = (folder / "run.log").read_text()
        assert f"precision: --precision {choice} -> {policy}" in log
        assert f"precision policy {policy}" in log  # the setup line, after the policy is set
        assert keras.mixed_precision.global_policy().name == "float32"


def test_the_precision_flag_reaches_the_run():
    from absl import flags

    from tfaudiogan.experiments import common

    common.define_flags()
    seen = {}
    try:
        flags.FLAGS(["prog", "--precision", "mixed", "--preset", "smoke"])
        common.main_for("wavegan_sc09", lambda *args, **kw: seen.update(kw))(["prog"])
        assert seen["precision"] == "mixed"
        with pytest.raises(flags.IllegalFlagValueError):
            flags.FLAGS(["prog", "--precision", "float16"])
    finally:
        flags.FLAGS.unparse_flags()

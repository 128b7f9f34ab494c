"""RTSR's re-parameterised training and deepening (srlib.models.rtsr): RepConv2D, fuse, rtsr_branched_from,
rtsr_deepened_from."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from srlib import quant
from srlib.inference import zoo
from srlib.models.espcn import espcn
from srlib.models.rtsr import EDGE_MASKS, RepConv2D, fuse, rtsr, rtsr_branched_from, rtsr_deepened_from
from srlib.training.experiment import Recipe, build


def randomize(model_or_layer, seed, scale=0.3):
    """Every weight of ``model_or_layer`` drawn from N(0, scale^2) (so the zero-started branches count too)."""
    rng = np.random.default_rng(seed)
    model_or_layer.set_weights([rng.normal(0, scale, w.shape).astype(np.float32)
                                for w in model_or_layer.get_weights()])


def branch_sum(layer, x):
    """``layer``'s output computed branch by branch, each branch its own convolution(s): (N, H, W, C_in) ->
    (N, H, W, C)."""
    conv = lambda x, k, pad="SAME": tf.nn.conv2d(x, k, 1, pad)  # noqa: E731
    y = conv(x, layer.kernel) + conv(x, layer.kernel_1x1) + conv(conv(x, layer.expand, "VALID"), layer.expand_kernel)
    if layer.kernel_size >= 3:
        for mask, weights, scales in zip(EDGE_MASKS, layer.edge_weights.numpy(), layer.edge_scales.numpy(),
                                         strict=True):
            depthwise = mask[:, :, None, None] * scales[None, None, :, None]  # (3, 3, C, 1): one mask per channel
            y += tf.nn.depthwise_conv2d(conv(x, weights[None, None]), depthwise, [1, 1, 1, 1], "SAME")
    return tf.nn.relu(y + layer.bias).numpy()


@pytest.mark.parametrize("k", [1, 3, 5])
def test_repconv_is_the_sum_of_its_branches(k):
    x = np.random.default_rng(0).random((2, 9, 10, 3), np.float32)
    layer = RepConv2D(4, k, activation="relu")
    layer(x)
    randomize(layer, k)
    assert len(layer.weights) == (7 if k >= 3 else 5)
    np.testing.assert_allclose(layer(x).numpy(), branch_sum(layer, x), atol=1e-5)
    kernel, bias = layer.fused()
    assert kernel.shape == (k, k, 3, 4) and bias.shape == (4,)
    plain = tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME") + bias).numpy()
    np.testing.assert_allclose(plain, branch_sum(layer, x), atol=1e-5)


def test_a_new_repconv_computes_the_plain_convolution_of_its_kernel():
    """From scratch, the extra branches start silent (zero 1 x 1 and expand k x k kernels, edge scales ~1e-3): the
    fused kernel is the k x k kernel's, not a sum of random kernels of several times its variance."""
    layer = RepConv2D(16, 3)
    layer(np.zeros((1, 4, 4, 8), np.float32))
    kernel, _ = layer.fused()
    np.testing.assert_allclose(kernel, layer.kernel.numpy(), atol=2e-2)
    assert np.std(kernel) == pytest.approx(np.sqrt(2 / (9 * 8 + 9 * 16)), rel=0.15)  # glorot_uniform's std alone


def test_sobel_x_branch_answers_an_impulse_with_its_mask():
    layer = RepConv2D(1, 3)
    impulse = np.zeros((1, 5, 5, 1), np.float32)
    impulse[0, 2, 2, 0] = 1
    layer(impulse)
    layer.set_weights([np.zeros(w.shape, np.float32) for w in layer.get_weights()])
    layer.edge_weights.assign(np.ones((3, 1, 1), np.float32))
    layer.edge_scales.assign(np.array([[2.0], [0.0], [0.0]], np.float32))
    # a correlation answers an impulse with its kernel turned 180 degrees: 2 x Sobel-x reversed
    np.testing.assert_array_equal(layer(impulse).numpy()[0, 1:4, 1:4, 0], [[-2, 0, 2], [-4, 0, 4], [-2, 0, 2]])


def test_repconv_runs_under_mixed_precision():
    x = np.random.default_rng(4).random((1, 6, 7, 2), np.float32)
    full, mixed = RepConv2D(3, 3), RepConv2D(3, 3, dtype="mixed_bfloat16")
    full(x), mixed(x)
    randomize(full, 4)
    mixed.set_weights(full.get_weights())
    assert mixed(x).dtype == "bfloat16" and all(w.dtype == "float32" for w in mixed.weights)
    np.testing.assert_allclose(mixed(x).numpy().astype(np.float32), full(x).numpy(), atol=0.05)


def test_repconv_refuses_an_even_kernel():
    with pytest.raises(ValueError, match="must be odd"):
        RepConv2D(4, 2)


def test_fuse_makes_the_plain_rtsr_with_the_same_outputs_and_it_quantises(tmp_path):
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).random((1, 11, 13, 1), np.float32)
    branched = rtsr(3, filters=(8, 8), branches=True)
    randomize(branched, 1, scale=0.1)
    assert [type(layer).__name__ for layer in branched.layers].count("RepConv2D") == 3
    plain = fuse(branched)
    kinds = lambda m: [type(layer).__name__ for layer in m.layers]  # noqa: E731
    assert kinds(plain) == kinds(rtsr(3, filters=(8, 8))) and plain.name == "rtsr_x3"
    np.testing.assert_allclose(plain(x).numpy(), branched(x).numpy(), atol=1e-5)
    quant.quantize_model(plain)  # the fused model is what the int8 path takes
    with pytest.raises(ValueError, match="RepConv2D"):
        quant.quantize_model(branched)
    branched.save(tmp_path / "rep.keras")  # the branched model round-trips through .keras
    np.testing.assert_array_equal(zoo.load_file(tmp_path / "rep.keras")(x).numpy(), branched(x).numpy())


def test_fuse_and_branching_refuse_other_models():
    with pytest.raises(ValueError, match="not a branched RTSR"):
        fuse(rtsr(3, filters=(8, 8)))
    with pytest.raises(ValueError, match="not a plain RTSR"):
        rtsr_branched_from(espcn(3, activation="relu", filters=(8, 8)))  # no nearest-neighbour residual


def test_branched_from_starts_as_the_plain_model_and_every_branch_learns(tmp_path):
    keras.utils.set_random_seed(2)
    x = np.random.default_rng(2).random((2, 10, 12, 1), np.float32)
    plain = rtsr(3, filters=(8, 8))
    randomize(plain, 2, scale=0.1)
    branched = rtsr_branched_from(plain)
    np.testing.assert_allclose(branched(x).numpy(), plain(x).numpy(), atol=1e-5)
    target = np.random.default_rng(3).random((2, 30, 36, 1), np.float32)

    def dead():
        """The trainable weights with no gradient of an MSE on ``target``."""
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((branched(x, training=True) - target) ** 2)
        grads = tape.gradient(loss, branched.trainable_weights)
        return {w.path.split("/")[-1] for w, g in zip(branched.trainable_weights, grads, strict=True)
                if not np.any(g.numpy())}, grads

    # at the start the zeroed factors learn; their random partners (expand, edge 1 x 1s) wait one step
    frozen, grads = dead()
    assert frozen == {"expand", "edge_weights"}
    for w, g in zip(branched.trainable_weights, grads, strict=True):
        w.assign_sub(0.1 * g)
    assert dead()[0] == set()
    # experiment.build's warm start (weights matched by shape, in order) carries a branched start file exactly
    branched.save(tmp_path / "start.keras")
    recipe = Recipe("rtsr", scale=3, args={"filters": [8, 8], "branches": True},
                    warm_start=str(tmp_path / "start.keras"))
    np.testing.assert_array_equal(build(recipe)(x).numpy(), branched(x).numpy())


def test_an_older_rtsr_with_a_concatenated_repeat_is_the_same_function():
    """RTSR files written before the broadcast addition repeat the input by a 9-way concatenation: the same outputs
    with the same weights, and branching / fusing still takes them."""
    from srlib.layers import SubPixelUpscale

    inp = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(8, 5, padding="same", activation="relu")(inp)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(9, 3, padding="same")(x)
    x = keras.layers.Add()([x, keras.layers.Concatenate()([inp] * 9)])
    old = keras.Model(inp, SubPixelUpscale(3)(x))
    new = rtsr(3, filters=(8, 4))
    new.set_weights(old.get_weights())
    lr = np.random.default_rng(2).random((1, 7, 9, 1), np.float32)
    np.testing.assert_allclose(new(lr).numpy(), old(lr).numpy(), atol=1e-6)
    np.testing.assert_allclose(rtsr_branched_from(old)(lr).numpy(), old(lr).numpy(), atol=1e-5)


@pytest.mark.parametrize("filters, kernels", [((8, 6, 6), (5, 3, 1, 3)), ((8, 8, 6, 6), (5, 3, 3, 3, 3))])
def test_deepened_from_inserts_identity_layers_that_then_learn(filters, kernels, tmp_path):
    keras.utils.set_random_seed(4)
    x = np.random.default_rng(4).random((2, 10, 12, 1), np.float32)
    plain = rtsr(3, filters=(8, 6))
    randomize(plain, 4, scale=0.2)
    deep = rtsr_deepened_from(plain, filters, kernels)
    assert [c.kernel_size[0] for c in deep.layers if isinstance(c, keras.layers.Conv2D)] == list(kernels)
    assert np.any(plain.layers[2](plain.layers[1](x)).numpy() == 0)  # the ReLUs do cut: identity only on >= 0
    np.testing.assert_allclose(deep(x).numpy(), plain(x).numpy(), atol=1e-6)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((deep(x, training=True) - np.float32(0.5)) ** 2)
    grads = tape.gradient(loss, deep.trainable_weights)
    assert all(np.any(g.numpy()) for g in grads)  # every layer learns, the new ones too
    deep.save(tmp_path / "start.keras")  # the warm start of experiment.build carries it exactly
    recipe = Recipe("rtsr", scale=3, args={"filters": list(filters), "kernels": list(kernels)},
                    warm_start=str(tmp_path / "start.keras"))
    np.testing.assert_array_equal(build(recipe)(x).numpy(), deep(x).numpy())


@pytest.mark.parametrize("filters, kernels", [((8, 7), (5, 3, 3)), ((6, 6, 6), (5, 3, 3, 3)), ((8, 6), (3, 3, 3)),
                                              ((8, 6, 6), (5, 3, 3, 5))])
def test_deepened_from_refuses_a_design_that_does_not_extend_the_model(filters, kernels):
    with pytest.raises(ValueError, match="do not extend"):
        rtsr_deepened_from(rtsr(3, filters=(8, 6)), filters, kernels)

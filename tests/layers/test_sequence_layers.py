"""Sequence layers: gradients over lengths, sizes and initial states, token ids, masks and errors."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer, numerical_gradient, relative_error

import glassnet as gn
from glassnet.network.data import network_inputs

TOLERANCE = 1e-6


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("steps", "hidden"), [(1, 3), (4, 1), (6, 5)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_gradients_over_lengths_and_sizes(kind, steps, hidden, return_sequences, rng):
    layer = getattr(gn, kind)(2, hidden, return_sequences=return_sequences)
    errors = check_layer(layer, rng.standard_normal((3, steps, 2)))
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_initial_state_gradient_matches_central_differences(kind, rng):
    layer = getattr(gn, kind)(3, 4, return_sequences=True)
    x = rng.standard_normal((2, 5, 3))
    layer.initialize(rng)
    for param in layer.parameters():
        param.value = param.value.astype(np.float64)
    states = [rng.standard_normal((2, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    given = tuple(states) if kind == "LSTM" else states[0]
    weights = rng.standard_normal((2, 5, 4))

    def objective() -> float:
        return float((layer.forward(x, initial_state=given) * weights).sum())

    objective()
    layer.backward(weights)
    analytic = layer.initial_state_grad if kind == "LSTM" else (layer.initial_state_grad,)
    for state, grad in zip(states, analytic, strict=True):
        assert relative_error(grad, numerical_gradient(objective, state)) < TOLERANCE
    layer.forward(x)
    layer.backward(weights)
    assert layer.initial_state_grad is None  # no state given: none to differentiate


@pytest.mark.parametrize(("heads", "steps", "causal"), [(1, 1, False), (3, 4, True), (2, 6, False), (6, 3, True)])
def test_attention_gradients_over_heads_and_lengths(heads, steps, causal, rng):
    errors = check_layer(gn.MultiHeadAttention(6, heads, causal=causal), rng.standard_normal((2, steps, 6)))
    assert max(errors.values()) < TOLERANCE, errors


def test_causal_attention_never_reads_the_future(rng):
    layer = gn.MultiHeadAttention(4, 2, causal=True)
    x = rng.standard_normal((2, 6, 4))
    before = layer.forward(x)
    x[:, 4:] += 10  # change the last two steps only
    after = layer.forward(x)
    np.testing.assert_array_equal(before[:, :4], after[:, :4])
    assert not np.allclose(before[:, 4:], after[:, 4:])
    unmasked = gn.MultiHeadAttention(4, 2)
    unmasked.set_parameters({name: p.value for name, p in layer.named_parameters().items()})
    assert not np.allclose(unmasked.forward(x)[:, :4], after[:, :4])


def test_embedding_gradient_sums_repeated_tokens(rng):
    layer = gn.Embedding(5, 3)
    layer.initialize(rng)
    layer.weight.value = layer.weight.value.astype(np.float64)
    ids = np.array([[0, 1, 1, 4], [1, 1, 0, 2]])  # 1 four times, 3 never
    weights = rng.standard_normal((2, 4, 3))

    def objective() -> float:
        return float((layer.forward(ids) * weights).sum())

    objective()
    assert layer.backward(weights) is None  # ids have no gradient
    assert relative_error(layer.weight.grad, numerical_gradient(objective, layer.weight.value)) < TOLERANCE
    assert np.array_equal(layer.weight.grad[3], np.zeros(3))
    np.testing.assert_allclose(layer.weight.grad[1], weights[0, 1] + weights[0, 2] + weights[1, 0] + weights[1, 1])


def test_embedding_takes_whole_floats_and_rejects_the_rest(rng):
    layer = gn.Embedding(4, 2)
    ids = np.array([[0, 3, 2]])
    np.testing.assert_array_equal(layer.forward(ids.astype(np.float32)), layer.forward(ids))
    with pytest.raises(gn.InputTypeError, match=r"not whole numbers.*astype"):
        layer.forward(np.array([[0.5, 1.0]]))
    with pytest.raises(gn.InputError, match=r"token ids in \[0, 4\), got values from 0 to 4"):
        layer.forward(np.array([[0, 4]]))
    with pytest.raises(gn.ShapeError, match=r"Embedding\(4, 2\) expected input \(N, T\) integer token ids"):
        layer.forward(np.zeros((1, 2, 3), dtype=np.int64))


def test_network_passes_token_ids_unconverted():
    net = gn.Network(seed=0).add(gn.Embedding(10, 2)).add(gn.LSTM(2, 3))
    ids = np.arange(12).reshape(2, 6) % 10
    x, _ = network_inputs(net, ids)
    assert x.dtype.kind == "i" and x is ids
    floats, _ = network_inputs(net, ids.astype(np.float64))  # floats are still cast, and accepted
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(net.predict(ids), net.predict(floats))
    other, _ = network_inputs(gn.Network().add(gn.Dense(6, 2)), ids)
    assert other.dtype == np.float32  # only a first layer that takes indices keeps integers


def test_per_step_labels_train_a_sequence_model_and_are_checked():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, (32, 5))
    net = (
        gn.Network(epochs=1, batch_size=8, seed=0, verbose=0)
        .add(gn.Embedding(4, 6))
        .add(gn.GRU(6, 8, return_sequences=True))
        .add(gn.TimeDense(8, 4))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    net.fit(x, x)
    assert np.isfinite(net.history["loss"][0])
    assert net.history["accuracy"] == []  # per-step labels keep no accuracy (the loop counts samples)
    with pytest.raises(gn.InputError, match=r"labels must be in \[0, 4\) for a network with 4 outputs per step"):
        net.fit(x, x + 1)


def test_cross_entropy_of_sequences_is_the_mean_over_steps(rng):
    logits = rng.standard_normal((3, 5, 4))
    y = np.eye(4)[rng.integers(0, 4, (3, 5))]
    ce = gn.losses.CrossEntropy()
    flat_loss, flat_grad = ce.from_logits(y.reshape(15, 4), logits.reshape(15, 4))
    loss, grad = ce.from_logits(y, logits)
    assert loss == pytest.approx(flat_loss)
    np.testing.assert_allclose(grad.reshape(15, 4), flat_grad)
    numeric = numerical_gradient(lambda: ce.loss_from_logits(y, logits), logits)
    assert relative_error(grad, numeric) < TOLERANCE


def test_sequence_layers_explain_bad_input():
    with pytest.raises(gn.ShapeError, match=r"LSTM\(28 -> 8\) expected input \(N, T, 28\).*x\[\.\.\., 0\]"):
        gn.LSTM(28, 8).forward(np.zeros((2, 28, 28, 1)))
    with pytest.raises(gn.ShapeError, match=r"use GRU\(5, 8\)"):
        gn.GRU(28, 8).forward(np.zeros((2, 3, 5)))
    with pytest.raises(gn.InputError, match="heads=3 must divide dim=8"):
        gn.MultiHeadAttention(8, 3)
    with pytest.raises(gn.InputError, match='activation must be "tanh" or "relu"'):
        gn.RNN(2, 2, activation="sigmoid")
    with pytest.raises(gn.InputError, match=r"initial state of shape \(2, 4\), got \(2, 3\)"):
        gn.RNN(3, 4).forward(np.zeros((2, 5, 3)), initial_state=np.zeros((2, 3)))
    with pytest.raises(gn.InputError, match=r"initial_state=\(h0, c0\)"):
        gn.LSTM(3, 4).forward(np.zeros((2, 5, 3)), initial_state=np.zeros((2, 4)))
    with pytest.raises(gn.ShapeError, match=r"use PositionalEmbedding\(9, 4\)"):
        gn.PositionalEmbedding(8, 4).forward(np.zeros((1, 9, 4)))
    with pytest.raises(gn.NotReadyError, match="call forward"):
        gn.LSTM(2, 2).backward(np.zeros((1, 2)))


def test_transformer_block_names_its_parts_parameters():
    block = gn.TransformerBlock(8, 2, 16)
    block.initialize(np.random.default_rng(0))
    shapes = {name: p.shape for name, p in block.named_parameters().items()}
    assert shapes == block.parameter_shapes()
    assert shapes["attention_weight_qkv"] == (8, 24) and shapes["expand_weight"] == (8, 16)
    assert sum(np.prod(s) for s in shapes.values()) == 2 * 16 + (8 * 24 + 24 + 64 + 8) + (8 * 16 + 16 + 16 * 8 + 8)


SEQUENCE_LAYERS = [
    gn.Embedding(7, 4),
    gn.PositionalEmbedding(9, 4),
    gn.RNN(4, 3, return_sequences=True, activation="relu"),
    gn.LSTM(4, 3),
    gn.GRU(4, 5, return_sequences=True),
    gn.LayerNorm(4),
    gn.MultiHeadAttention(4, 2, causal=True),
    gn.TimeDense(4, 6),
    gn.TransformerBlock(4, 2, 8, causal=True),
]


@pytest.mark.parametrize("layer", SEQUENCE_LAYERS, ids=repr)
def test_declared_shapes_match_the_parameters_and_specs_rebuild_the_layer(layer):
    from glassnet.io.schema import build_layer

    layer.initialize(np.random.default_rng(0))
    assert {name: p.shape for name, p in layer.named_parameters().items()} == layer.parameter_shapes()
    rebuilt = build_layer(type(layer).__name__, layer.config(), "layer 0")
    assert type(rebuilt) is type(layer) and rebuilt.config() == layer.config()


def test_a_token_model_round_trips_through_a_model_file(tmp_path):
    net = (
        gn.Network(seed=2)
        .add(gn.Embedding(7, 4))
        .add(gn.PositionalEmbedding(9, 4))
        .add(gn.TransformerBlock(4, 2, 8, causal=True))
        .add(gn.LSTM(4, 3, return_sequences=True))
        .add(gn.TimeDense(3, 7))
        .add(gn.Softmax())
        .use("cross_entropy")
    )
    ids = np.random.default_rng(0).integers(0, 7, (5, 9))
    net.fit(ids, ids, epochs=1, verbose=0)
    net.save(tmp_path / "tokens.npz")
    loaded = gn.Network.load(tmp_path / "tokens.npz")
    np.testing.assert_array_equal(loaded.predict(ids), net.predict(ids))
    assert loaded.summary() == net.summary()

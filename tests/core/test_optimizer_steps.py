"""Optimizer steps against values worked out by hand from PyTorch's documented update rules.

Every case takes one and two steps, so the velocity or moments carried between steps matter.
Shared setup: lr = 0.1, p0 = [1.0, -2.0, 0.5], g1 = [0.5, -1.0, 2.0], g2 = [1.0, 0.5, -0.5]
(Adam uses the first two elements only). Each expected value is literal arithmetic on these numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn

P0 = [1.0, -2.0, 0.5]
G1 = [0.5, -1.0, 2.0]
G2 = [1.0, 0.5, -0.5]


def run_steps(optimizer: gn.optimizers.Optimizer, p0: list[float], grads: list[list[float]]) -> list[np.ndarray]:
    """The parameter's value after each step, one step per gradient in grads."""
    param = gn.Parameter(np.array(p0, dtype=np.float64))
    values = []
    for grad in grads:
        param.grad = np.array(grad, dtype=np.float64)
        optimizer.step([param])
        values.append(param.value.copy())
    return values


def check_steps(
    optimizer: gn.optimizers.Optimizer, p0: list[float], grads: list[list[float]], *expected: list[float]
) -> None:
    """Take len(grads) steps and compare the value after each with the hand-computed one."""
    for step, (got, want) in enumerate(zip(run_steps(optimizer, p0, grads), expected, strict=True), start=1):
        np.testing.assert_allclose(got, np.array(want), rtol=1e-12, err_msg=f"after step {step}")


def test_sgd_plain() -> None:
    # p <- p - lr * g
    step1 = [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -1.0, 0.5 - 0.1 * 2.0]  # [0.95, -1.9, 0.3]
    step2 = [0.95 - 0.1 * 1.0, -1.9 - 0.1 * 0.5, 0.3 - 0.1 * -0.5]  # [0.85, -1.95, 0.35]
    check_steps(gn.optimizers.SGD(0.1), P0, [G1, G2], step1, step2)


def test_sgd_weight_decay_adds_to_the_gradient() -> None:
    # g' = g + wd * p (wd = 0.5), then p <- p - lr * g'. With g - wd * p, step 1 would be [1.0, -2.0, 0.325].
    # step 1: g' = [0.5 + 0.5 * 1.0, -1.0 + 0.5 * -2.0, 2.0 + 0.5 * 0.5] = [1.0, -2.0, 2.25]
    step1 = [1.0 - 0.1 * 1.0, -2.0 - 0.1 * -2.0, 0.5 - 0.1 * 2.25]  # [0.9, -1.8, 0.275]
    # step 2: g' = [1.0 + 0.5 * 0.9, 0.5 + 0.5 * -1.8, -0.5 + 0.5 * 0.275] = [1.45, -0.4, -0.3625]
    step2 = [0.9 - 0.1 * 1.45, -1.8 - 0.1 * -0.4, 0.275 - 0.1 * -0.3625]  # [0.755, -1.76, 0.31125]
    check_steps(gn.optimizers.SGD(0.1, weight_decay=0.5), P0, [G1, G2], step1, step2)


def test_sgd_momentum() -> None:
    # v <- mu * v + g (v = g on the first step), p <- p - lr * v, mu = 0.9
    # step 1: v = g1 = [0.5, -1.0, 2.0]
    step1 = [1.0 - 0.1 * 0.5, -2.0 - 0.1 * -1.0, 0.5 - 0.1 * 2.0]  # [0.95, -1.9, 0.3]
    # step 2: v = [0.9 * 0.5 + 1.0, 0.9 * -1.0 + 0.5, 0.9 * 2.0 - 0.5] = [1.45, -0.4, 1.3]
    step2 = [0.95 - 0.1 * 1.45, -1.9 - 0.1 * -0.4, 0.3 - 0.1 * 1.3]  # [0.805, -1.86, 0.17]
    check_steps(gn.optimizers.SGD(0.1, momentum=0.9), P0, [G1, G2], step1, step2)


def test_sgd_nesterov() -> None:
    # v <- mu * v + g, p <- p - lr * (g + mu * v), mu = 0.9
    # step 1: v = g1; g + mu * v = [0.5 + 0.45, -1.0 - 0.9, 2.0 + 1.8] = [0.95, -1.9, 3.8]
    step1 = [1.0 - 0.1 * 0.95, -2.0 - 0.1 * -1.9, 0.5 - 0.1 * 3.8]  # [0.905, -1.81, 0.12]
    # step 2: v = [1.45, -0.4, 1.3]; g + mu * v = [1.0 + 1.305, 0.5 - 0.36, -0.5 + 1.17] = [2.305, 0.14, 0.67]
    step2 = [0.905 - 0.1 * 2.305, -1.81 - 0.1 * 0.14, 0.12 - 0.1 * 0.67]  # [0.6745, -1.824, 0.053]
    check_steps(gn.optimizers.SGD(0.1, momentum=0.9, nesterov=True), P0, [G1, G2], step1, step2)


def test_adam_with_bias_correction() -> None:
    # m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2, m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
    # p <- p - lr * m_hat / (sqrt(v_hat) + eps); b1 = b2 = 0.5, eps = 1e-8, p0 = [1.0, -2.0].
    # Without bias correction step 1 would move by lr * 0.5 / sqrt(0.5) = 0.0707..., not 0.1.
    # t = 1, g = [0.5, -1.0]: m = [0.25, -0.5], v = [0.125, 0.5]; m_hat = [0.5, -1.0], v_hat = [0.25, 1.0]
    step1 = [1.0 - 0.1 * 0.5 / (math.sqrt(0.25) + 1e-8), -2.0 - 0.1 * -1.0 / (math.sqrt(1.0) + 1e-8)]
    # t = 2, g = [1.0, 2.0]: m = [0.125 + 0.5, -0.25 + 1.0] = [0.625, 0.75], v = [0.0625 + 0.5, 0.25 + 2.0]
    # = [0.5625, 2.25]; 1 - 0.5^2 = 0.75, so m_hat = [0.625 / 0.75, 1.0], v_hat = [0.75, 3.0]
    step2 = [
        step1[0] - 0.1 * (0.625 / 0.75) / (math.sqrt(0.75) + 1e-8),
        step1[1] - 0.1 * 1.0 / (math.sqrt(3.0) + 1e-8),
    ]
    adam = gn.optimizers.Adam(0.1, beta1=0.5, beta2=0.5, eps=1e-8)
    check_steps(adam, [1.0, -2.0], [[0.5, -1.0], [1.0, 2.0]], step1, step2)


def test_adam_weight_decay_is_l2_added_to_the_gradient() -> None:
    # PyTorch's Adam (not AdamW): g' = g + wd * p, then the Adam step on g'; wd = 0.5, b1 = b2 = 0.5, eps = 0.
    # With g - wd * p, step 1 would see g' = [0, 0] and not move.
    # t = 1: g' = [0.5 + 0.5 * 1.0, -1.0 + 0.5 * -2.0] = [1.0, -2.0]; m = [0.5, -1.0], v = [0.5, 2.0];
    #        m_hat = [1.0, -2.0], v_hat = [1.0, 4.0]
    step1 = [1.0 - 0.1 * 1.0 / math.sqrt(1.0), -2.0 - 0.1 * -2.0 / math.sqrt(4.0)]  # [0.9, -1.9]
    # t = 2: g' = [1.0 + 0.5 * 0.9, 2.0 + 0.5 * -1.9] = [1.45, 1.05]
    #        m = [0.25 + 0.725, -0.5 + 0.525] = [0.975, 0.025]
    #        v = [0.25 + 0.5 * 1.45**2, 1.0 + 0.5 * 1.05**2] = [1.30125, 1.55125]; 1 - 0.5^2 = 0.75
    step2 = [
        0.9 - 0.1 * (0.975 / 0.75) / math.sqrt(1.30125 / 0.75),
        -1.9 - 0.1 * (0.025 / 0.75) / math.sqrt(1.55125 / 0.75),
    ]
    adam = gn.optimizers.Adam(0.1, beta1=0.5, beta2=0.5, eps=0.0, weight_decay=0.5)
    check_steps(adam, [1.0, -2.0], [[0.5, -1.0], [1.0, 2.0]], step1, step2)


def test_adam_step_count_is_per_parameter() -> None:
    # A has a gradient on both calls, B only on the second: for B that is its first Adam step (t = 1),
    # so m_hat = g and v_hat = g^2 and B moves by lr * g / (|g| + eps), b1 = b2 = 0.5, eps = 1e-8.
    a = gn.Parameter(np.array([1.0, -2.0]))
    b = gn.Parameter(np.array([3.0, 4.0]))
    adam = gn.optimizers.Adam(0.1, beta1=0.5, beta2=0.5, eps=1e-8)
    a.grad = np.array([0.5, -1.0])
    adam.step([a, b])
    a.grad, b.grad = np.array([1.0, 2.0]), np.array([2.0, -0.5])
    adam.step([a, b])
    want_b = [3.0 - 0.1 * 2.0 / (2.0 + 1e-8), 4.0 - 0.1 * -0.5 / (0.5 + 1e-8)]
    np.testing.assert_allclose(b.value, np.array(want_b), rtol=1e-12)


def test_adam_per_parameter_steps_are_kept_in_its_state() -> None:
    a, b = gn.Parameter(np.array([1.0])), gn.Parameter(np.array([2.0]))
    adam = gn.optimizers.Adam(0.1)
    a.grad = np.array([1.0])
    adam.step([a, b])
    a.grad = b.grad = np.array([1.0])
    adam.step([a, b])
    assert adam.steps == 2 and float(adam.state[0]["step"]) == 2.0 and float(adam.state[1]["step"]) == 1.0


def test_adam_state_without_steps_counts_the_optimizer_steps_as_format_1_did() -> None:
    # A format-1 checkpoint stores m and v only: its t was the optimizer's step count, as before.
    param = gn.Parameter(np.array([1.0, -2.0]))
    adam = gn.optimizers.Adam(0.1, beta1=0.5, beta2=0.5, eps=1e-8)
    adam.steps = 1
    adam.state = [{"m": np.array([0.25, -0.5]), "v": np.array([0.125, 0.5])}]  # after step 1 of the test above
    param.grad = np.array([1.0, 2.0])
    adam.step([param])
    want = [1.0 - 0.1 * (0.625 / 0.75) / (math.sqrt(0.75) + 1e-8), -2.0 - 0.1 * 1.0 / (math.sqrt(3.0) + 1e-8)]
    np.testing.assert_allclose(param.value, want, rtol=1e-12)
    assert float(adam.state[0]["step"]) == 2.0


def test_adamw_decays_the_weights_apart_from_the_moments() -> None:
    # p <- p * (1 - lr * wd), then the Adam step on g itself; lr = 0.1, wd = 0.5, b1 = b2 = 0.5, eps = 0.
    # With L2 (Adam's weight_decay) the moments would see g + wd * p and step 1 would be [0.9, -1.9].
    # t = 1: p = [0.95, -1.9]; m_hat = g = [0.5, -1.0], v_hat = g^2: the Adam step is lr * sign(g)
    step1 = [0.95 - 0.1, -1.9 + 0.1]  # [0.85, -1.8]
    # t = 2: p = [0.85 * 0.95, -1.8 * 0.95]; m = [0.625, 0.75], v = [0.5625, 2.25], 1 - 0.5^2 = 0.75
    step2 = [
        0.85 * 0.95 - 0.1 * (0.625 / 0.75) / math.sqrt(0.5625 / 0.75),
        -1.8 * 0.95 - 0.1 * (0.75 / 0.75) / math.sqrt(2.25 / 0.75),
    ]
    adamw = gn.optimizers.AdamW(0.1, beta1=0.5, beta2=0.5, eps=0.0, weight_decay=0.5)
    check_steps(adamw, [1.0, -2.0], [[0.5, -1.0], [1.0, 2.0]], step1, step2)


def test_rmsprop() -> None:
    # s <- alpha s + (1 - alpha) g^2, p <- p - lr * g / (sqrt(s) + eps); alpha = 0.5, eps = 0
    # step 1: s = 0.5 * g1^2 = [0.125, 0.5, 2.0]
    step1 = [1.0 - 0.1 * 0.5 / math.sqrt(0.125), -2.0 - 0.1 * -1.0 / math.sqrt(0.5), 0.5 - 0.1 * 2.0 / math.sqrt(2.0)]
    # step 2: s = [0.0625 + 0.5 * 1.0, 0.25 + 0.5 * 0.25, 1.0 + 0.5 * 0.25] = [0.5625, 0.375, 1.125]
    step2 = [
        step1[0] - 0.1 * 1.0 / math.sqrt(0.5625),
        step1[1] - 0.1 * 0.5 / math.sqrt(0.375),
        step1[2] - 0.1 * -0.5 / math.sqrt(1.125),
    ]
    check_steps(gn.optimizers.RMSprop(0.1, alpha=0.5, eps=0.0), P0, [G1, G2], step1, step2)


def test_rmsprop_momentum_and_centered() -> None:
    # centered: s as above, a <- alpha a + (1 - alpha) g, rms = sqrt(s - a^2); b <- mu b + g / rms
    # alpha = 0.5, mu = 0.5, eps = 0, one element: p0 = 1.0, g1 = 2.0, g2 = 1.0
    # step 1: s = 2.0, a = 1.0, rms = sqrt(2.0 - 1.0) = 1.0, b = 2.0 / 1.0 = 2.0, p = 1.0 - 0.1 * 2.0 = 0.8
    # step 2: s = 1.0 + 0.5 = 1.5, a = 0.5 + 0.5 = 1.0, rms = sqrt(0.5), b = 0.5 * 2.0 + 1.0 / sqrt(0.5)
    step2 = 0.8 - 0.1 * (1.0 + 1.0 / math.sqrt(0.5))
    rmsprop = gn.optimizers.RMSprop(0.1, alpha=0.5, eps=0.0, momentum=0.5, centered=True)
    check_steps(rmsprop, [1.0], [[2.0], [1.0]], [0.8], [step2])


def test_adagrad() -> None:
    # S <- S + g^2, p <- p - lr * g / (sqrt(S) + eps); eps = 0
    # step 1: S = g1^2 = [0.25, 1.0, 4.0], so g / sqrt(S) = sign(g1)
    step1 = [1.0 - 0.1, -2.0 + 0.1, 0.5 - 0.1]  # [0.9, -1.9, 0.4]
    # step 2: S = [0.25 + 1.0, 1.0 + 0.25, 4.0 + 0.25] = [1.25, 1.25, 4.25]
    step2 = [0.9 - 0.1 * 1.0 / math.sqrt(1.25), -1.9 - 0.1 * 0.5 / math.sqrt(1.25), 0.4 - 0.1 * -0.5 / math.sqrt(4.25)]
    check_steps(gn.optimizers.Adagrad(0.1, eps=0.0), P0, [G1, G2], step1, step2)


def test_rmsprop_weight_decay_adds_to_the_gradient() -> None:
    # g' = g + wd * p (wd = 0.5), then the RMSprop step on g'; alpha = 0.5, eps = 0, p0 = [1.0, -2.0]
    # With g - wd * p, step 1 would see g' = [0, 0] and not move.
    # step 1: g' = [0.5 + 0.5 * 1.0, -1.0 + 0.5 * -2.0] = [1.0, -2.0]; s = 0.5 * g'^2 = [0.5, 2.0]
    step1 = [1.0 - 0.1 * 1.0 / math.sqrt(0.5), -2.0 - 0.1 * -2.0 / math.sqrt(2.0)]  # [1 - 0.1 sqrt2, -2 + 0.1 sqrt2]
    # step 2: g = [1.0, 2.0]: g' = g + 0.5 * step1; s = 0.5 * [0.5, 2.0] + 0.5 * g'^2
    g2 = [1.0 + 0.5 * step1[0], 2.0 + 0.5 * step1[1]]
    s2 = [0.25 + 0.5 * g2[0] ** 2, 1.0 + 0.5 * g2[1] ** 2]
    step2 = [step1[0] - 0.1 * g2[0] / math.sqrt(s2[0]), step1[1] - 0.1 * g2[1] / math.sqrt(s2[1])]
    rmsprop = gn.optimizers.RMSprop(0.1, alpha=0.5, eps=0.0, weight_decay=0.5)
    check_steps(rmsprop, [1.0, -2.0], [[0.5, -1.0], [1.0, 2.0]], step1, step2)


def test_adagrad_weight_decay_adds_to_the_gradient() -> None:
    # g' = g + wd * p (wd = 0.5), then the Adagrad step on g'; eps = 0
    # step 1: g' = [0.5 + 0.5, -1.0 - 1.0, 2.0 + 0.25] = [1.0, -2.0, 2.25]; S = g'^2, so the step is lr * sign(g')
    step1 = [1.0 - 0.1, -2.0 + 0.1, 0.5 - 0.1]  # [0.9, -1.9, 0.4]; with g - wd * p, 0 / 0 would give nan
    # step 2: g' = [1.0 + 0.45, 0.5 - 0.95, -0.5 + 0.2] = [1.45, -0.45, -0.3]
    #         S = [1.0 + 1.45^2, 4.0 + 0.45^2, 2.25^2 + 0.3^2] = [3.1025, 4.2025, 5.1525]
    step2 = [
        0.9 - 0.1 * 1.45 / math.sqrt(3.1025),
        -1.9 - 0.1 * -0.45 / math.sqrt(4.2025),
        0.4 - 0.1 * -0.3 / math.sqrt(5.1525),
    ]
    check_steps(gn.optimizers.Adagrad(0.1, eps=0.0, weight_decay=0.5), P0, [G1, G2], step1, step2)


def test_adagrad_initial_accumulator() -> None:
    # S starts at 0.75: step 1 S = 0.75 + 0.25 = 1.0, p = 1.0 - 0.1 * 0.5 / 1.0 = 0.95
    check_steps(gn.optimizers.Adagrad(0.1, initial_accumulator_value=0.75, eps=0.0), [1.0], [[0.5]], [0.95])


def test_clip_by_global_norm() -> None:
    # grads [3, 4] and [0]: global norm 5; max_norm 1 scales both by 1 / (5 + 1e-6), as clip_grad_norm_
    a, b = gn.Parameter(np.zeros(2)), gn.Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 4.0]), np.array([0.0])
    assert gn.optimizers.clip_by_global_norm([a, b], 1.0) == 5.0
    np.testing.assert_allclose(a.grad, [3.0 / (5 + 1e-6), 4.0 / (5 + 1e-6)], rtol=1e-15)
    a.grad = np.array([0.3, 0.4])
    gn.optimizers.clip_by_global_norm([a, b], 1.0)
    np.testing.assert_array_equal(a.grad, [0.3, 0.4])  # below the limit: untouched


@pytest.mark.parametrize("name", ["adamw", "rmsprop", "adagrad"])
def test_new_optimizers_are_built_by_name(name: str) -> None:
    optimizer = gn.Network(optimizer=name, learning_rate=0.05).optimizer
    assert type(optimizer).__name__.lower() == name and optimizer.learning_rate == 0.05

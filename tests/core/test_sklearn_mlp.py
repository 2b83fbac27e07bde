"""MLPClassifier's parameter names on GlassClassifier and GlassRegressor, partial_fit, float64 predictions."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is an optional extra: pip install glassnet[sklearn]")

from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

import glassnet as gn
from glassnet.sklearn import GlassClassifier, GlassRegressor


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def _dense_shapes(model):
    return [layer.weight.value.shape for layer in model.network_.layers if isinstance(layer, gn.Dense)]


def test_mlp_names_round_trip_through_get_params_set_params_and_clone():
    names = {
        "hidden_layer_sizes": (7, 5),
        "max_iter": 3,
        "learning_rate_init": 0.01,
        "alpha": 0.5,
        "early_stopping": True,
        "validation_fraction": 0.25,
        "n_iter_no_change": 4,
        "tol": 0.01,
    }
    for cls in (GlassClassifier, GlassRegressor):
        model = cls(**names)
        assert {key: model.get_params()[key] for key in names} == names
        twin = clone(model)
        assert twin.get_params() == model.get_params()
        assert clone(cls().set_params(**names)).get_params() == model.get_params()


@pytest.mark.parametrize("old, new", [("hidden_units", "hidden_layer_sizes"), ("epochs", "max_iter")])
def test_old_names_are_refused(old, new):
    """The names before MLPClassifier's (hidden_units, epochs, learning_rate) are gone, not silently ignored."""
    with pytest.raises(TypeError, match=old):
        GlassClassifier(**{old: 3})
    with pytest.raises(ValueError, match=f"Invalid parameter '{old}'.*{new}"):
        GlassClassifier().set_params(**{old: 3})


def test_hidden_layer_sizes_sets_the_dense_layers(iris):
    x, y = iris
    clf = GlassClassifier(hidden_layer_sizes=(7, 5), max_iter=1, random_state=0).fit(x, y)
    assert _dense_shapes(clf) == [(4, 7), (7, 5), (5, 3)]
    reg = GlassRegressor(hidden_layer_sizes=(6,), max_iter=1, random_state=0).fit(x, x[:, :2])
    assert _dense_shapes(reg) == [(4, 6), (6, 2)]


def test_max_iter_is_the_number_of_epochs(iris):
    x, y = iris
    clf = GlassClassifier(max_iter=4, random_state=0).fit(x, y)
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 4 and len(clf.network_.history["loss"]) == 4
    assert len(clf.network_.card["fits"]) == 1  # one Network.fit: epochs numbered 1..4 when verbose, one doctor


def test_learning_rate_init_is_the_optimizers_rate(iris):
    x, y = iris
    clf = GlassClassifier(learning_rate_init=0.0123, max_iter=1, random_state=0).fit(x, y)
    assert clf.network_.optimizer.learning_rate == pytest.approx(0.0123)


def test_training_stops_when_the_loss_stalls_for_n_iter_no_change_epochs(iris):
    x, y = iris
    # tol=10: no epoch after the first beats the best loss by 10, so each counts as no change;
    # MLPClassifier stops once the count exceeds n_iter_no_change: after 1 + (n_iter_no_change + 1) epochs
    for patience in (1, 3):
        clf = GlassClassifier(max_iter=50, tol=10.0, n_iter_no_change=patience, random_state=0).fit(x, y)
        assert clf.n_iter_ == patience + 2
        assert clf.best_loss_ == min(clf.loss_curve_) and clf.validation_scores_ is None
    assert GlassClassifier(max_iter=12, tol=0.0, random_state=0).fit(x, y).n_iter_ == 12  # the loss keeps falling


def test_early_stopping_watches_the_validation_score_and_keeps_the_best_weights(iris):
    x, y = iris
    stopped = GlassClassifier(early_stopping=True, tol=1.0, n_iter_no_change=2, max_iter=50, random_state=0)
    stopped.fit(x, y)
    assert stopped.n_iter_ == 4 and len(stopped.validation_scores_) == 4  # accuracy never rises by 1.0
    assert stopped.best_validation_score_ == max(stopped.validation_scores_) and stopped.best_loss_ is None
    # the weights kept are those of the first epoch with the best score: a run of just that many epochs
    best_epoch = int(np.argmax(stopped.validation_scores_)) + 1
    short = GlassClassifier(early_stopping=True, max_iter=best_epoch, random_state=0).fit(x, y)
    np.testing.assert_array_equal(short.predict_proba(x), stopped.predict_proba(x))
    # a realistic run stops long before max_iter (15 validation samples: their accuracy soon stops rising)
    long = GlassClassifier(early_stopping=True, max_iter=500, n_iter_no_change=5, random_state=0).fit(x, y)
    assert long.n_iter_ < 500 and long.score(x, y) >= 0.8  # 18 epochs, 0.84


def test_validation_fraction_is_held_out_of_training(iris):
    x, y = iris  # 150 samples, batch 10
    for fraction, train in ((0.2, 120), (0.5, 75)):
        clf = GlassClassifier(early_stopping=True, validation_fraction=fraction, batch_size=10, max_iter=2)
        clf.fit(x, y)
        assert clf.network_.optimizer.steps == clf.n_iter_ * math.ceil(train / 10)
    clf = GlassClassifier(batch_size=10, max_iter=2).fit(x, y)  # without early stopping: all 150
    assert clf.network_.optimizer.steps == 2 * 15


def test_alpha_is_weight_decay_alpha_over_batch_and_shrinks_the_weights(iris):
    x, y = iris
    plain = GlassClassifier(alpha=0.0, max_iter=30, batch_size=16, random_state=0).fit(x, y)
    decayed = GlassClassifier(alpha=2.0, max_iter=30, batch_size=16, random_state=0).fit(x, y)
    assert plain.network_.optimizer.weight_decay == 0.0
    assert decayed.network_.optimizer.weight_decay == pytest.approx(2.0 / 16)  # sklearn's gradient alpha * W / n_batch
    norms = [
        sum(float(np.sum(layer.weight.value**2)) for layer in m.network_.layers if isinstance(layer, gn.Dense))
        for m in (plain, decayed)
    ]
    assert norms[1] < 0.5 * norms[0], norms
    small = GlassClassifier(alpha=1.0, batch_size=64, max_iter=1).fit(x[::5][:20], y[::5][:20])
    assert small.network_.optimizer.weight_decay == pytest.approx(1.0 / 20)  # batches of the 20 samples there are


def test_an_optimizer_instance_is_copied_not_trained(iris):
    x, y = iris
    adam = gn.optimizers.Adam(0.01)
    clf = GlassClassifier(optimizer=adam, alpha=0.1, max_iter=2).fit(x, y)
    assert clf.network_.optimizer is not adam and adam.steps == 0 and adam.weight_decay == 0.0


def test_partial_fit_first_call_needs_classes(iris):
    x, y = iris
    clf = GlassClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        clf.partial_fit(x, y)
    with pytest.raises(ValueError, match=r"y holds labels \[2\] that are not in classes \[0, 1\]"):
        clf.partial_fit(x, y, classes=[0, 1])
    assert not hasattr(clf, "network_")
    clf.partial_fit(x[y < 2], y[y < 2], classes=[0, 1, 2])  # later batches may hold any of the classes
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match="differs from the first call's"):
        clf.partial_fit(x, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(x[:, :3], y)


def test_three_partial_fit_calls_improve_accuracy_on_mnist():
    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    x_train, y_train = x_train[:1000].reshape(1000, 784), y_train[:1000]  # (1000, 784)
    x_test, y_test = x_test[:500].reshape(500, 784), y_test[:500]  # (500, 784)
    clf = GlassClassifier(hidden_layer_sizes=(32,), random_state=0)
    scores = []
    for _ in range(3):
        clf.partial_fit(x_train, y_train, classes=np.arange(10))
        scores.append(clf.score(x_test, y_test))
    network = clf.network_
    assert scores[0] < scores[1] < scores[2] and scores[2] >= 0.75, scores  # 0.60, 0.75, 0.79
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3 and clf.loss_curve_[2] < clf.loss_curve_[0]
    clf.partial_fit(x_train[:10], y_train[:10])  # later calls need no classes, and keep the network
    assert clf.network_ is network and clf.n_iter_ == 4
    clf.fit(x_train[:100], y_train[:100])  # fit starts over
    assert clf.network_ is not network


def test_regressor_fits_a_smooth_function():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(600, 2))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2
    reg = GlassRegressor(hidden_layer_sizes=(64, 64), max_iter=100, learning_rate_init=0.01, random_state=0)
    reg.fit(x[:500], y[:500])
    prediction = reg.predict(x[500:])
    assert prediction.shape == (100,) and prediction.dtype == np.float64
    assert reg.score(x[500:], y[500:]) > 0.9  # R^2: 0.997, after 51 epochs (then the training loss stalled)
    assert isinstance(reg.network_.layers[-1], gn.Dense)  # linear outputs
    two = np.column_stack([y, -y])
    reg2 = GlassRegressor(hidden_layer_sizes=(32,), max_iter=40, learning_rate_init=0.01, random_state=0)
    assert reg2.fit(x, two).predict(x).shape == (600, 2)


def test_regressor_partial_fit_and_early_stopping():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(300, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    reg = GlassRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    losses = [reg.partial_fit(x, y).loss_curve_[-1] for _ in range(3)]
    assert losses[2] < losses[0] and reg.n_iter_ == 3
    with pytest.raises(ValueError, match="y has 2 targets per sample, but this regressor was first fitted on 1"):
        reg.partial_fit(x, np.column_stack([y, y]))
    stopped = GlassRegressor(early_stopping=True, n_iter_no_change=3, max_iter=400, learning_rate_init=0.01)
    stopped.fit(x, y)
    assert stopped.n_iter_ < 400 and stopped.best_validation_score_ > 0.9  # R^2 on the held-out 10%


def test_predictions_of_a_row_do_not_depend_on_the_other_rows(iris):
    """float32 products give a row different last bits with different neighbours; predictions run in float64."""
    x, y = iris
    clf = GlassClassifier(hidden_layer_sizes=(50,), max_iter=5, random_state=0).fit(x * 30, y)
    assert clf.network_.dtype == np.float32  # trained in float32
    full = clf.predict_proba(x * 30)
    for start, size in ((0, 1), (3, 6), (17, 60), (100, 50)):
        np.testing.assert_allclose(
            clf.predict_proba(x[start : start + size] * 30), full[start : start + size], rtol=0, atol=1e-12
        )
    assert clf.network_.dtype == np.float32  # predicting leaves the fitted network as it was

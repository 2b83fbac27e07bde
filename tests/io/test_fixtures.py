"""Model files and checkpoints written by an earlier glassnet load, predict and resume identically."""

from __future__ import annotations

import numpy as np
from model_fixtures import CHECKPOINT, EXPECTED, MODEL, inputs, resume_to_two_epochs

import glassnet as gn


def test_an_old_model_file_predicts_bit_identically():
    with np.load(EXPECTED) as expected:
        assert np.array_equal(gn.Network.load(MODEL).predict(inputs()[0]), expected["mlp_predict"])


def test_an_old_checkpoint_predicts_bit_identically():
    with np.load(EXPECTED) as expected:
        assert np.array_equal(gn.Network.load(CHECKPOINT).predict(inputs()[0]), expected["checkpoint_predict"])


def test_an_old_checkpoint_resumes_bit_identically():
    net = resume_to_two_epochs(CHECKPOINT)
    with np.load(EXPECTED) as expected:
        weights = np.concatenate([p.value.ravel() for p in net.parameters()])
        assert np.array_equal(weights, expected["resumed_weights"])
        assert np.array_equal(np.asarray(net.history["loss"]), expected["resumed_loss"])

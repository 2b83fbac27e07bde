"""The habits users bring: Network([layers]), the summary as HTML in Jupyter, Pillow named by its pip name."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.extras import MissingExtraError, import_extra


def test_network_takes_a_list_of_layers_as_keras_does() -> None:
    by_list = gn.Network([gn.Dense(3, 4), gn.ReLU(), gn.Dense(4, 2)], seed=0)
    by_add = gn.Network(seed=0).add(gn.Dense(3, 4)).add(gn.ReLU()).add(gn.Dense(4, 2))
    assert by_list.epochs == 1 and len(by_list.layers) == 3
    for a, b in zip(by_list.parameters(), by_add.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)
    with pytest.raises(TypeError, match="add\\(\\) takes a layer"):
        gn.Network([gn.Dense(3, 4), "relu"])  # type: ignore[list-item]


def test_repr_html_is_the_summary_table_escaped() -> None:
    net = gn.Network([gn.Flatten(), gn.Dense(4, 2)]).use("mse")
    net.input_shape = (2, 2)
    page = net._repr_html_()
    assert page.startswith("<table>") and "<td>Dense(4 -&gt; 2)</td>" in page and "(N, 2)" in page
    assert "<td style='text-align:right'>10</td></tr></tfoot>" in page  # 4*2 weights + 2 biases


def test_missing_pillow_is_named_by_its_pip_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "PIL.Image", None)  # importing it now raises ImportError
    with pytest.raises(MissingExtraError, match=r'reading images needs Pillow: pip install "glassnet\[images\]"'):
        import_extra("PIL.Image", "images", "reading images")

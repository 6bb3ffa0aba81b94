"""Metric and quasimetric heads (repro.learn.quasimetric): hand cases, the triangle
inequality as a property, and training through the registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.config import make_config
from repro.learn.methods import build_model
from repro.learn.quasimetric import interval_union, metric_distance, mrn_distance

HEADS = ("metric", "mrn", "iqe")


def test_interval_union_by_hand():
    t = torch.tensor
    assert interval_union(t([0.0, 2.0]), t([1.0, 3.0])) == 2.0  # [0, 1] and [2, 3]
    assert interval_union(t([0.0, 0.5]), t([1.0, 1.0])) == 1.0  # [0, 1] holds [0.5, 1]
    assert interval_union(t([1.0]), t([0.0])) == 0.0  # y below x: an empty interval
    assert interval_union(t([0.0, 0.0]), t([2.0, 1.0])) == 2.0  # nested from one start
    assert interval_union(t([3.0, 0.0]), t([4.0, 1.0])) == 2.0  # order of coordinates free


def test_mrn_by_hand():
    x = torch.tensor([0.0, 0.0, 3.0, 1.0])
    y = torch.tensor([3.0, 4.0, 1.0, 2.0])
    # metric half: ||(0,0) - (3,4)|| = 5; asymmetric half: max(relu(3-1), relu(1-2)) = 2
    assert mrn_distance(x, y) == 7.0
    assert mrn_distance(y, x) == 5.0 + 1.0  # max(relu(1-3), relu(2-1)) = 1: asymmetric


def embeddings(n: int = 3, dim: int = 8):
    values = st.floats(-5.0, 5.0, allow_nan=False, width=32)
    return st.lists(st.lists(values, min_size=dim, max_size=dim), min_size=n, max_size=n)


@settings(max_examples=200, deadline=None)
@given(embeddings())
def test_every_head_satisfies_the_triangle_inequality(points):
    a, b, c = (torch.tensor(p, dtype=torch.float64) for p in points)
    for name in HEADS:
        model, _ = _model(name, embed_dim=8, iqe_components=2)
        d = model.pair_distance
        assert d(a, a).abs() < 1e-9 and d(a, b) >= 0
        assert d(a, c) <= d(a, b) + d(b, c) + 1e-9, name
    assert torch.isclose(metric_distance(a, b), metric_distance(b, a))  # the metric is symmetric


def _model(head: str, **sets):
    c = make_config("contrastive_qm-normal", "fixed", 0, "smoke", {"qm_head": head, **sets})
    return build_model(c, torch.Generator().manual_seed(0)).double(), c


@pytest.mark.parametrize("head", HEADS)
def test_the_critic_matrix_is_minus_every_pairwise_distance(head):
    model, _ = _model(head)
    x, y = torch.randn(5, 16, dtype=torch.float64), torch.randn(5, 16, dtype=torch.float64)
    with torch.no_grad():
        logits = model.critic_logits(x, y)
        loop = [[-float(model.pair_distance(x[i], y[j])) for j in range(5)] for i in range(5)]
    torch.testing.assert_close(logits, torch.tensor(loop, dtype=torch.float64))


@pytest.mark.parametrize("head", HEADS)
def test_a_head_trains_and_evaluates_through_the_registry(head, tmp_path):
    from repro.config import make_eval_config
    from repro.evaluation.evaluate import evaluate_run
    from repro.learn.train import train

    c = make_config("contrastive_qm-normal", "procedural", 0, "smoke", {"qm_head": head})
    meta = train(c, tmp_path / "run", device="cpu", progress=False)
    assert meta["status"] == "complete" and np.isfinite(meta["final_loss"])
    m = evaluate_run(tmp_path / "run", make_eval_config("smoke"), tmp_path)
    assert -1.0 <= m["spearman"]["full"]["mean"] <= 1.0
    assert (
        c.run_id
        == "procedural/contrastive_qm-normal" + ("" if head == "iqe" else f"+{head}") + "__s0"
    )


def test_iqe_components_must_divide_the_embedding():
    from repro.errors import ConfigError

    with pytest.raises(ConfigError, match="iqe_components"):
        make_config("contrastive_qm-normal", "fixed", 0, "smoke", {"iqe_components": 5})

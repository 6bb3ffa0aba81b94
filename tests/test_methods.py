"""The method registry: a new distance model is one module and one table entry.

The toy method below is such a module, written the way the README says: a model
with ``distance``, and ``build``, ``sample``, ``loss`` and ``cost``. It is
registered in ``METHODS`` and trained at smoke scale by the unchanged trainer,
then evaluated by the unchanged evaluation.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from repro.config import METHOD_MODULES, RunConfig, make_config, make_eval_config
from repro.errors import ConfigError
from repro.evaluation.evaluate import evaluate_run
from repro.learn import contrastive, supervised
from repro.learn.methods import METHODS, Method, build_model, method_of, run_cost
from repro.learn.runfiles import load_model
from repro.learn.train import train, train_runs

# ---------------------------------------------------------------- the toy method (one "module")


class CellTable(nn.Module):
    """d(s, g) = ||e(s) - e(g)||_1 with one learned 4-vector per cell (walls ignored)."""

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.e = nn.Parameter(torch.zeros(config.size * config.size, 4))

    def distance(self, walls, states, goals, maze_index=None) -> torch.Tensor:
        return (self.e[states] - self.e[goals]).abs().sum(dim=1)


def toy_build(config: RunConfig, generator: torch.Generator) -> nn.Module:
    model = CellTable(config)
    with torch.no_grad():
        model.e.uniform_(0.0, 1.0, generator=generator)
    return model


def toy_loss(model, batch, config):
    pred = model.distance(batch["walls"], batch["states"], batch["goals"])
    loss = ((pred - batch["target"]) ** 2).mean()
    return loss, {"mae": (pred - batch["target"]).abs().mean().detach()}


TOY = Method(build=toy_build, sample=supervised.sample, loss=toy_loss, cost=lambda c: 0.5)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(METHODS, "toy", TOY)
    return dataclasses.replace(
        make_config("supervised-normal", "fixed", 0, "smoke"), method="toy", steps=200, lr=0.05
    )


# ---------------------------------------------------------------- tests


def test_registry_holds_the_paper_methods():
    assert {"supervised", "contrastive"} <= set(METHODS)
    assert set(METHODS) == set(METHOD_MODULES)
    for name, module in (("supervised", supervised), ("contrastive", contrastive)):
        m = METHODS[name]
        assert (m.build, m.sample, m.loss, m.cost) == (
            module.build,
            module.sample,
            module.loss,
            module.cost,
        )


def test_registry_picks_the_model_class():
    for name, cls in (
        ("supervised-normal", supervised.SupervisedDistance),
        ("contrastive-normal", contrastive.ContrastiveDistance),
    ):
        config = make_config(name, "procedural", 0, "smoke")
        assert type(build_model(config, torch.Generator().manual_seed(0))) is cls


def test_run_cost_orders_runs_longest_first():
    sup = make_config("supervised-normal", "fixed", 0)
    con = make_config("contrastive-normal", "procedural", 0)
    assert run_cost(con) > run_cost(sup) > 0
    assert run_cost(dataclasses.replace(sup, steps=2 * sup.steps)) == 2 * run_cost(sup)


def test_unknown_method_is_a_config_error_naming_it(tmp_path):
    config = dataclasses.replace(
        make_config("supervised-normal", "fixed", 0, "smoke"), method="nope"
    )
    with pytest.raises(ConfigError, match="'nope'.*supervised, contrastive"):
        method_of(config)
    with pytest.raises(ConfigError, match="nope"):
        train(config, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_toy_method_trains_and_evaluates_through_the_registry(toy, tmp_path):
    meta = train(toy, tmp_path / "runs" / toy.run_id, progress=False)
    assert meta["run_id"] == "fixed/toy-normal__s0" and meta["status"] == "complete"
    rows = (tmp_path / "runs" / meta["run_id"] / "loss.csv").read_text().splitlines()
    assert rows[0] == "step,loss,mae"
    first, last = float(rows[1].split(",")[1]), float(rows[-1].split(",")[1])
    assert math.isfinite(last) and last < first  # it learns
    model, config = load_model(tmp_path / "runs" / meta["run_id"])
    assert isinstance(model, CellTable) and config.method == "toy"
    metrics = evaluate_run(tmp_path / "runs" / meta["run_id"], make_eval_config("smoke"), tmp_path)
    assert -1.0 <= metrics["spearman"]["full"]["mean"] <= 1.0
    assert metrics["planning"]["search"]["solved_rate"] is not None
    # the same seed gives the same bits
    again = train(toy, out=tmp_path / "again", progress=False)
    assert again["model_sha256"] == meta["model_sha256"]


def test_a_toy_method_trains_in_a_group_of_three_as_it_trains_alone(toy, tmp_path):
    """The toy method, written once, in a group of 3 (its loss vmapped over stacked
    parameters): each member learns and matches its run alone to rounding."""
    configs = [dataclasses.replace(toy, seed=s) for s in range(3)]
    outs = [tmp_path / f"g{s}" for s in range(3)]
    metas = train_runs(configs, outs, device="cpu", progress=False)
    for c, out, meta in zip(configs, outs, metas, strict=True):
        assert meta["trainer"]["members"] == 3 and meta["status"] == "complete"
        alone = train(c, tmp_path / f"alone{c.seed}", device="cpu", progress=False)
        a = torch.load(out / "model.pt", weights_only=True)["e"]
        b = torch.load(tmp_path / f"alone{c.seed}/model.pt", weights_only=True)["e"]
        assert (a - b).abs().max().item() <= 5e-5
        assert abs(meta["final_loss"] - alone["final_loss"]) <= 5e-5 * max(1, alone["final_loss"])
        rows = (out / "loss.csv").read_text().splitlines()
        assert float(rows[-1].split(",")[1]) < float(rows[1].split(",")[1])  # it learns

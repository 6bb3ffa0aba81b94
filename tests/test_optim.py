"""FusedAdam against torch.optim.Adam(fused=True): the same bits, step by step."""

import pytest
import torch

from repro.config import make_config
from repro.learn.methods import build_model
from repro.learn.optim import FusedAdam


def _pair(method: str, regime: str):
    config = make_config(f"{method}-normal", regime, 0, "smoke")
    a = build_model(config, torch.Generator().manual_seed(3))
    b = build_model(config, torch.Generator().manual_seed(3))
    return config, a, b


def _loss(model, config, g):
    cells = config.size * config.size
    s = torch.randint(cells, (16,), generator=g)
    t = torch.randint(cells, (16,), generator=g)
    walls = torch.rand(16, cells, generator=g).round() if config.regime == "procedural" else None
    return (model.distance(walls, s, t) - 3.0).pow(2).mean()


@pytest.mark.parametrize("method", ["supervised", "contrastive"])
@pytest.mark.parametrize("regime", ["fixed", "procedural"])
def test_fused_adam_matches_torch_adam_bit_for_bit(method, regime):
    config, ours, theirs = _pair(method, regime)
    opt_ours = FusedAdam(ours.parameters(), lr=1e-2)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-2, fused=True)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    for _ in range(25):
        opt_ours.zero_grad()
        _loss(ours, config, g1).backward()
        opt_ours.step()
        opt_theirs.zero_grad(set_to_none=True)
        _loss(theirs, config, g2).backward()
        opt_theirs.step()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert torch.equal(p, q), name
    assert not torch.equal(
        next(ours.parameters()),
        next(build_model(config, torch.Generator().manual_seed(3)).parameters()),
    )


def test_state_dict_round_trip_continues_identically():
    config, a, b = _pair("supervised", "fixed")
    opt_a = FusedAdam(a.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        opt_a.zero_grad()
        _loss(a, config, g).backward()
        opt_a.step()
    b.load_state_dict(a.state_dict())
    opt_b = FusedAdam(b.parameters(), lr=1e-2)
    opt_b.load_state_dict(opt_a.state_dict())
    ga, gb = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    for model, opt, gen in ((a, opt_a, ga), (b, opt_b, gb)):
        for _ in range(3):
            opt.zero_grad()
            _loss(model, config, gen).backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_load_state_dict_refuses_other_shapes():
    config, a, _ = _pair("supervised", "fixed")
    other = build_model(make_config("contrastive-normal", "fixed", 0, "smoke"), torch.Generator())
    with pytest.raises(ValueError, match="exp_avg"):
        FusedAdam(a.parameters(), 1e-3).load_state_dict(
            FusedAdam(other.parameters(), 1e-3).state_dict()
        )


def test_step_without_gradient_is_an_error():
    _, a, _ = _pair("supervised", "fixed")
    with pytest.raises(RuntimeError, match="no gradient"):
        FusedAdam(a.parameters(), 1e-3).step()


def _train(model, config, opt, seed: int, steps: int = 10) -> None:
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        opt.zero_grad()
        _loss(model, config, g).backward()
        opt.step()


def test_without_the_private_kernel_it_is_torchs_foreach_adam(monkeypatch):
    """A torch without ``torch._fused_adam_``: FusedAdam falls back to torch.optim.Adam
    (foreach), bit for bit, and stays within rounding of the fused update."""
    config, fused_model, fallback_model = _pair("contrastive", "procedural")
    _, reference_model, _ = _pair("contrastive", "procedural")
    fused = FusedAdam(fused_model.parameters(), lr=1e-2)
    assert fused.fallback is None  # the pinned torch has the kernel
    monkeypatch.delattr(torch, "_fused_adam_")
    fallback = FusedAdam(fallback_model.parameters(), lr=1e-2)
    assert isinstance(fallback.fallback, torch.optim.Adam)
    reference = torch.optim.Adam(reference_model.parameters(), lr=1e-2, foreach=True)
    _train(fallback_model, config, fallback, 5)
    _train(reference_model, config, reference, 5)
    monkeypatch.undo()
    _train(fused_model, config, fused, 5)
    for p, q, r in zip(
        fallback_model.parameters(),
        reference_model.parameters(),
        fused_model.parameters(),
        strict=True,
    ):
        assert torch.equal(p, q)
        assert torch.allclose(p, r, atol=1e-5, rtol=0)
    assert [int(n) for n in fallback.state_dict()["step"]] == [10] * len(fallback.params)


def test_a_fallback_checkpoint_resumes_on_the_fused_kernel_and_back(monkeypatch):
    config, a, b = _pair("supervised", "fixed")
    monkeypatch.delattr(torch, "_fused_adam_")
    opt_a = FusedAdam(a.parameters(), lr=1e-2)
    _train(a, config, opt_a, 0, 3)
    monkeypatch.undo()
    b.load_state_dict(a.state_dict())
    opt_b = FusedAdam(b.parameters(), lr=1e-2)  # the kernel is back
    opt_b.load_state_dict(opt_a.state_dict())
    monkeypatch.delattr(torch, "_fused_adam_")
    opt_a2 = FusedAdam(a.parameters(), lr=1e-2)
    opt_a2.load_state_dict(opt_a.state_dict())
    _train(a, config, opt_a2, 1, 3)
    monkeypatch.undo()
    _train(b, config, opt_b, 1, 3)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(p, q, atol=1e-6, rtol=0)
    assert int(opt_a2.state_dict()["step"][0]) == int(opt_b.state_dict()["step"][0]) == 6

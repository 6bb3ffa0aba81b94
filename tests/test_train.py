"""Trainer: determinism, exact resume after interruption, caching, divergence, CLI errors."""

import subprocess
import sys

import pytest
import torch

from repro.config import make_config
from repro.errors import TrainingDiverged
from repro.learn.train import train


def smoke(name="supervised-normal", regime="fixed", **sets):
    return make_config(name, regime, 0, "smoke", sets)


def weights(path):
    return torch.load(path, weights_only=True)


def same_weights(a, b):
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("name", ["supervised-normal", "contrastive-stitching"])
@pytest.mark.parametrize("regime", ["fixed", "procedural"])
def test_same_seed_same_run(tmp_path, name, regime):
    config = smoke(name, regime)
    a = train(config, tmp_path / "a", progress=False)
    b = train(config, tmp_path / "b", progress=False)
    assert (tmp_path / "a/loss.csv").read_text() == (tmp_path / "b/loss.csv").read_text()
    assert same_weights(tmp_path / "a/model.pt", tmp_path / "b/model.pt")
    assert a["model_sha256"] == b["model_sha256"]
    other = train(make_config(name, regime, 1, "smoke"), tmp_path / "c", progress=False)
    assert other["model_sha256"] != a["model_sha256"]


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("name", ["supervised-normal", "contrastive-normal"])
@pytest.mark.parametrize("stop_at", [1, 20, 33, 59])
def test_resume_after_interrupt_gives_identical_weights(tmp_path, name, stop_at):
    config = smoke(name, "procedural")  # 60 steps, checkpoints every 20
    train(config, tmp_path / "whole", progress=False)

    def boom(step):
        if step == stop_at:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(config, tmp_path / "cut", progress=False, on_step=boom)
    assert not (tmp_path / "cut/run.json").exists()
    meta = train(config, tmp_path / "cut", progress=False)
    assert meta["resumed_from_step"] == stop_at - stop_at % 20
    assert same_weights(tmp_path / "whole/model.pt", tmp_path / "cut/model.pt")
    assert (tmp_path / "whole/loss.csv").read_text() == (tmp_path / "cut/loss.csv").read_text()
    for snap in (tmp_path / "whole/snapshots").iterdir():
        assert same_weights(snap, tmp_path / "cut/snapshots" / snap.name)


def test_complete_run_not_retrained_changed_setting_retrains(tmp_path):
    config = smoke()
    first = train(config, tmp_path, progress=False)
    again = train(config, tmp_path, progress=False)
    assert again.get("cached") and again["model_sha256"] == first["model_sha256"]
    changed = train(smoke(lr=2e-3), tmp_path, progress=False)
    assert not changed.get("cached") and changed["model_sha256"] != first["model_sha256"]


@pytest.mark.faults
def test_nan_in_a_batch_stops_run_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    from repro.learn.batches import TrajectoryTensors

    config = smoke("supervised-normal", "fixed")  # checkpoints every 20 steps
    real = TrajectoryTensors.sample_pairs
    calls = {"n": 0}

    def poisoned(self, batch, g):
        out = real(self, batch, g)
        calls["n"] += 1
        if calls["n"] == 27:  # the batch of step 27
            out["target"] = out["target"].clone()
            out["target"][0] = float("nan")
        return out

    monkeypatch.setattr(TrajectoryTensors, "sample_pairs", poisoned)
    with pytest.raises(TrainingDiverged, match=r"supervised-normal.*step 27.*step 20"):
        train(config, tmp_path, progress=False)
    assert not (tmp_path / "run.json").exists()
    monkeypatch.setattr(TrajectoryTensors, "sample_pairs", real)
    meta = train(config, tmp_path, progress=False)  # resumes from the good checkpoint
    assert meta["resumed_from_step"] == 20
    from conftest import FAULT_COUNTS

    key = "f. NaN in a batch: stopped at the named step, checkpoint kept"
    FAULT_COUNTS[key] = FAULT_COUNTS.get(key, 0) + 1


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_checkpoint_is_not_used(tmp_path, damage, capfd):
    config = smoke("contrastive-normal", "fixed")
    train(config, tmp_path / "whole", progress=False)

    def stop(step):
        if step == 45:
            raise Interrupt

    # Checkpoints at steps 20 (prev.pt) and 40 (last.pt): a damaged last.pt is not used and
    # the run resumes from prev.pt; with both damaged, it starts over.
    for names, resumed in ((["last.pt"], 20), (["prev.pt", "last.pt"], 0)):
        cut = tmp_path / f"cut{resumed}"
        with pytest.raises(Interrupt):
            train(config, cut, progress=False, on_step=stop)
        for name in names:
            ckpt = cut / "checkpoints" / name
            data = bytearray(ckpt.read_bytes())
            if damage == "truncate":
                data = data[: len(data) // 2]
            else:
                data[-100] ^= 0xFF  # one flipped byte deep in the tensors: loadable by torch
            ckpt.write_bytes(bytes(data))
        meta = train(config, cut, progress=False)
        assert "damaged" in capfd.readouterr().err
        assert meta["resumed_from_step"] == resumed
        assert same_weights(tmp_path / "whole/model.pt", cut / "model.pt")


def run_cli(*args, env_results):
    import os

    env = {**os.environ, "REPRO_RESULTS": str(env_results)}
    return subprocess.run(
        [sys.executable, "-m", "repro", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--config", "supervised-sideways"], "supervised-sideways"),
        (["--config", "supervised-normal", "--set", "colour=red"], "colour"),
        (["--config", "supervised-normal", "--set", "steps=many"], "steps"),
        (["--config", "supervised-normal", "--set", "steps=0"], "steps"),
        (["--config", "contrastive-normal", "--set", "gamma=1.0"], "gamma"),
        (["--config", "contrastive-normal", "--set", "gamma=0"], "gamma"),
        (["--config", "supervised-normal", "--set", "batch_size=1"], "batch_size"),
        (["--config", "supervised-normal", "--set", "lr"], "lr"),
        (["--config", "supervised-normal", "--regime", "wobbly"], "regime"),
        (["--config", "supervised-normal", "--scale", "huge"], "huge"),
        (["--config", "supervised-normal", "--device", "tpu"], "device"),
    ],
)
def test_cli_bad_input_exit_2_no_traceback(tmp_path, args, name, repro_cli):
    out = repro_cli(tmp_path, "train", "--scale", "smoke", *args)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert name in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_cli_trains_smoke_run(tmp_path):
    args = ("train", "--config", "contrastive-normal", "--regime", "fixed", "--scale", "smoke")
    out = run_cli(*args, env_results=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "runs/fixed/contrastive-normal__s0/run.json").exists()
    out = run_cli(*args, env_results=tmp_path)
    assert "already complete" in out.stdout

"""A group's training step captured once as a CUDA graph and replayed (``--cuda-graphs``).

On a GPU the group step is launch-bound: a stacked update is about 500-1,050 operators
whatever the number of members R, each a kernel launch from Python. A CUDA graph records
those launches once and replays them as one (PyTorch's "whole network capture": static
input buffers, warm-up on a side stream, then ``torch.cuda.graph``). Only the step is
captured: the loss, its backward and Adam. The members' batches are still drawn eagerly,
each from its own generator, and copied into the static buffers before every replay, so a
replayed step computes what the eager step computes, with the same kernels.

The warm-up steps that CUDA needs before a capture (lazy initialisation of cuBLAS and of
autograd's buffers) would train the members; their weights and Adam moments are copied
aside before and put back after, so the graph's first replay is the group's next step.

On the CPU, or where the capture fails (an operator that synchronises with the host, for
instance), :func:`capture` returns None with the reason and the caller steps eagerly:
``--cuda-graphs`` never changes what is trained, only how its kernels are launched.
"""

from __future__ import annotations

from typing import Any

import torch

from repro.learn.stack import Losses, StackedRuns

WARMUP = 3  # eager steps on a side stream before the capture (PyTorch's recipe uses 3)


def _state(stacked: StackedRuns) -> list[torch.Tensor]:
    """Every tensor a step writes in place: the weights, Adam's moments and step counts."""
    opt = stacked.opt
    return [*stacked.params.values(), *opt.exp_avg, *opt.exp_avg_sq, *opt.steps]


class GraphedStep:
    """``stacked.step`` as a replayed CUDA graph.

    static: the batch buffers, {name: (R, B, ...) tensor or None}, each the shape and dtype
    of the batch the graph was captured with; loss (R,) and info {name: (R,)}: the step's
    outputs, overwritten by every replay.
    """

    def __init__(self, stacked: StackedRuns, batch: dict[str, Any]) -> None:
        self.static = {k: None if v is None else v.clone() for k, v in batch.items()}
        saved = [t.clone() for t in _state(stacked)]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        try:
            with torch.cuda.stream(side):
                for _ in range(WARMUP):
                    stacked.step(self.static)
        finally:
            torch.cuda.current_stream().wait_stream(side)
            with torch.no_grad():
                for t, s in zip(_state(stacked), saved, strict=True):
                    t.copy_(s)  # the warm-up trained nothing
        stacked.opt.zero_grad()  # the capture's backward allocates the grads in its pool
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.loss, self.info = stacked.step(self.static)

    def __call__(self, batch: dict[str, Any]) -> Losses:
        """One step on ``batch`` (shapes as captured): (loss (R,), info {name: (R,)})."""
        for k, v in batch.items():
            if v is not None:
                self.static[k].copy_(v)
        self.graph.replay()
        return self.loss.clone(), {k: v.clone() for k, v in self.info.items()}


def capture(stacked: StackedRuns, batch: dict[str, Any]) -> tuple[GraphedStep | None, str]:
    """The group step as a CUDA graph, or None and why not (the CPU, or a failed capture:
    the caller then steps eagerly). ``batch`` is the first stacked batch; nothing of it is
    trained on."""
    device = next(iter(stacked.params.values())).device
    if device.type != "cuda":
        return None, f"CUDA graphs need a CUDA device; this group is on {device}"
    try:
        return GraphedStep(stacked, batch), "captured"
    except RuntimeError as e:  # e.g. an operator that synchronises with the host
        return None, f"capture failed: {str(e).splitlines()[0]}"

"""Adam as one fused kernel call per step, without torch.optim's per-step bookkeeping.

``torch.optim.Adam(fused=True)`` ends in the same kernel, ``torch._fused_adam_``,
but regroups every tensor by device and dtype and runs its hooks on every
call; at batch 64 that Python work took about 0.2-0.5 ms of a 2-4 ms step
(torch profiler, ``Optimizer.step#Adam.step`` self time). Here the lists are
built once. The update is bit-for-bit the one of ``torch.optim.Adam(fused=True)``
with default betas and eps and no weight decay (``tests/test_optim.py``
checks that, step by step).

``torch._fused_adam_`` is private. Where a torch build lacks it, the update falls back to
``torch.optim.Adam(foreach=True)`` over the same state tensors (the same algorithm, rounded
by other kernels; checkpoints stay interchangeable), so the project runs on any torch its
requirements admit.
"""

from __future__ import annotations

import torch


class FusedAdam:
    """Adam (betas 0.9, 0.999; eps 1e-8; no weight decay) over a fixed parameter list.

    State: ``exp_avg`` and ``exp_avg_sq`` (one tensor like each parameter) and
    ``step`` (a float32 scalar per parameter, as torch keeps it).
    """

    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(self, params, lr: float) -> None:
        self.params: list[torch.Tensor] = list(params)
        self.lr = float(lr)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]
        self.fallback = None if hasattr(torch, "_fused_adam_") else self._foreach_adam()

    def _foreach_adam(self) -> torch.optim.Adam:
        """torch's own Adam (foreach), its state the very tensors this object holds."""
        opt = torch.optim.Adam(self.params, lr=self.lr, betas=self.betas, eps=self.eps)
        opt.param_groups[0]["foreach"] = True
        for p, m, v, n in zip(self.params, self.exp_avg, self.exp_avg_sq, self.steps, strict=True):
            opt.state[p] = {"step": n, "exp_avg": m, "exp_avg_sq": v}
        return opt

    def zero_grad(self) -> None:
        """Drop the gradients (the next backward allocates fresh ones)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter; each must have a ``.grad``."""
        grads = [p.grad for p in self.params]
        if any(g is None for g in grads):
            raise RuntimeError("FusedAdam.step: a parameter has no gradient")
        if self.fallback is not None:
            self.fallback.step()
            return
        torch._foreach_add_(self.steps, 1)
        torch._fused_adam_(
            self.params,
            grads,
            self.exp_avg,
            self.exp_avg_sq,
            [],
            self.steps,
            amsgrad=False,
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=0.0,
            eps=self.eps,
            maximize=False,
        )

    def state_dict(self) -> dict[str, list[torch.Tensor]]:
        """Copies of the moments and step counts (for checkpoints)."""
        return {
            "exp_avg": [t.clone() for t in self.exp_avg],
            "exp_avg_sq": [t.clone() for t in self.exp_avg_sq],
            "step": [t.clone() for t in self.steps],
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, list[torch.Tensor]]) -> None:
        """Restore what :meth:`state_dict` returned; shapes must match the parameters."""
        for name, mine in (
            ("exp_avg", self.exp_avg),
            ("exp_avg_sq", self.exp_avg_sq),
            ("step", self.steps),
        ):
            saved = state[name]
            if len(saved) != len(mine) or any(
                a.shape != b.shape for a, b in zip(saved, mine, strict=True)
            ):
                raise ValueError(f"optimizer state '{name}' does not match the model's parameters")
            for a, b in zip(mine, saved, strict=True):
                a.copy_(b)

"""InfoNCE over a batch's critic matrix, for any critic (a head that is not ||phi - psi||).

logits[a, b] = f(s_a, g_b), float (B, B); the positive of row and column a is a. Every
contrastive learner's loss: the paper's critic -||phi(s) - psi(g)|| (:mod:`repro.learn.contrastive`)
and the metric and quasimetric heads (:mod:`repro.learn.quasimetric`).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def infonce(logits: torch.Tensor, direction: str) -> tuple[torch.Tensor, dict]:
    """'backward': for each goal a softmax over the batch's states (columns); 'forward': for
    each state a softmax over the goals (rows); 'symmetric': both. Returns (loss, info) with
    the accuracy in the loss's direction and the mean positive and negative logits."""
    labels = torch.arange(logits.shape[0], device=logits.device)
    loss = logits.new_zeros(())
    if direction in ("backward", "symmetric"):
        loss = loss + F.cross_entropy(logits.T, labels)
    if direction in ("forward", "symmetric"):
        loss = loss + F.cross_entropy(logits, labels)
    with torch.no_grad():
        acc_b = (logits.argmax(dim=0) == labels).float().mean()
        acc_f = (logits.argmax(dim=1) == labels).float().mean()
        acc = {"backward": acc_b, "forward": acc_f, "symmetric": (acc_b + acc_f) / 2}[direction]
        eye = torch.eye(logits.shape[0], dtype=torch.bool, device=logits.device)
        info = {"accuracy": acc, "logit_pos": logits[eye].mean(), "logit_neg": logits[~eye].mean()}
    return loss, info

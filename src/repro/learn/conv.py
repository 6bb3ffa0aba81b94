"""Convolutional trunks: models that see the maze as a grid, so that neighbouring cells are
neighbours (the MLP of :mod:`repro.learn.trunk` reads the maze as a flat vector).

Input: channels over the ``size x size`` grid, float (B, C_in, S, S): the walls (zeros in
the fixed regime, which does not feed them), one-hot cells (the goal, or the state), and a
learned map of the grid (one parameter per cell), which lets a fixed-regime model learn its
one maze. Two trunks, chosen by ``conv_arch``:

- ``dilated``: residual blocks of 3x3 convolutions with dilations 1, 2, 4, 8, ... (repeated)
  until the receptive field is at least twice the maze side;
- ``recurrent``: one shared 3x3 convolution applied ``conv_iters`` times (a VIN-style
  value-iteration module: each pass lets information travel one cell).

Each block or pass is ``h + relu(norm(conv(h)))``, the norm over each cell's channels; the
output is per cell, float (B, C_out, S, S).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch._C._functorch import is_functorch_wrapped_tensor

from repro.config import RunConfig


def dilations(size: int) -> list[int]:
    """Dilations 1, 2, 4, ... (cycled, at most 16) of the dilated trunk, until the receptive
    field 1 + 2 * sum(dilations) is at least twice the maze side."""
    out: list[int] = []
    d = 1
    while 1 + 2 * sum(out) < 2 * size:
        out.append(d)
        d = 1 if d >= 16 else 2 * d
    return out


def receptive_field(config: RunConfig) -> int:
    """The side of the square of input cells one output cell can see."""
    if config.conv_arch == "recurrent":
        return 1 + 2 * (config.conv_iters + 1)  # the input convolution, then the passes
    return 1 + 2 * (1 + sum(dilations(config.size)))


class ConvBlock(nn.Module):
    """h + relu(LayerNorm_channels(conv3x3(h))): (B, C, S, S) -> (B, C, S, S), zero padding
    (the outside of the grid reads as open cells, which is what the walls channel corrects).

    The norm is over the channels of each cell alone (as in ConvNeXt), not over the grid: a
    norm over the grid would pass information between all cells and make the receptive
    field the whole maze whatever the convolutions."""

    def __init__(self, channels: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.norm = nn.LayerNorm(channels)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(h).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return h + torch.relu(x)


class ConvTrunk(nn.Module):
    """(B, C_in, S, S) input channels and a learned map -> (B, C_out, S, S) features."""

    def __init__(self, config: RunConfig, in_channels: int, out_channels: int) -> None:
        super().__init__()
        c, size = config.channels, config.size
        self.map = nn.Parameter(torch.zeros(1, 1, size, size))  # the learned grid channel
        self.inp = nn.Conv2d(in_channels + 1, c, 3, padding=1)
        self.recurrent = config.conv_arch == "recurrent"
        self.iters = config.conv_iters
        if self.recurrent:
            self.blocks = nn.ModuleList([ConvBlock(c)])  # one block, applied ``iters`` times
        else:
            self.blocks = nn.ModuleList([ConvBlock(c, d) for d in dilations(size)])
        self.out = nn.Conv2d(c, out_channels, 1)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for every convolution, drawn
        from ``generator``; the learned map starts at zero; norms at ones and zeros."""
        for conv in [self.inp, *(b.conv for b in self.blocks), self.out]:
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            b = 1.0 / math.sqrt(fan_in)
            conv.weight.uniform_(-b, b, generator=generator)
            conv.bias.uniform_(-b, b, generator=generator)
        for block in self.blocks:
            block.norm.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = self.map.expand(x.shape[0], -1, -1, -1)
        x = torch.cat([x, grid], dim=1)
        if not is_functorch_wrapped_tensor(x):  # vmap (a group) cannot ask for a layout
            # Channels-last memory: oneDNN's CPU convolutions run 1.5-2x faster on it
            # (section i of ``nox -s bench``), and each block's norm reads it contiguously.
            x = x.contiguous(memory_format=torch.channels_last)
        h = self.inp(x)  # (B, C, S, S)
        if self.recurrent:
            for _ in range(self.iters):
                h = self.blocks[0](h)
        else:
            for block in self.blocks:
                h = block(h)
        return self.out(h)


def init_conv(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw every :class:`ConvTrunk`'s parameters from ``generator`` in module order."""
    for module in model.modules():
        if isinstance(module, ConvTrunk):
            module.reset_parameters(generator)
    return model


def wall_planes(walls: torch.Tensor | None, maze_index, batch: int, size: int, device):
    """The walls channel, float (B, 1, S, S): each row's maze (``walls`` float (B, cells), or
    (M, cells) picked by ``maze_index``), or zeros where no walls are fed (fixed regime)."""
    if walls is None:
        return torch.zeros(batch, 1, size, size, device=device)
    if maze_index is not None:
        walls = walls.index_select(0, maze_index)
    return walls.view(batch, 1, size, size)


def one_hot_planes(cells: torch.Tensor, size: int) -> torch.Tensor:
    """Cells int64 (B,) as one-hot planes, float (B, 1, S, S)."""
    grid = torch.arange(size * size, device=cells.device)
    planes = (cells[:, None] == grid).float()  # out of place: a group's vmap can batch it
    return planes.view(-1, 1, size, size)


def row_mazes(walls, maze_index, n: int, device) -> torch.Tensor:
    """The maze of each of ``n`` rows as an index, int64 (n,): ``maze_index``; each row its
    own maze where ``walls`` has a row per row; maze 0 where no walls are fed."""
    if maze_index is not None:
        return maze_index
    if walls is not None:
        return torch.arange(n, device=device)
    return torch.zeros(n, dtype=torch.int64, device=device)


def distinct(maze: torch.Tensor, cells: torch.Tensor, size: int):
    """The distinct (maze, cell) rows: ``first`` int64 (U,), one row holding each, and
    ``inverse`` int64 (B,), the distinct row of each row."""
    key = maze * (size * size) + cells
    uniq, inverse = torch.unique(key, return_inverse=True)
    rows = torch.arange(len(key), device=key.device)
    first = torch.zeros_like(uniq).scatter_(0, inverse, rows)  # any holder: all are equal
    return first, inverse

"""Stochastic MLPs: the encoder q_φ(z|x) and decoder p_θ(x|z) of Turbo-Sim (arXiv:2112.10629).

A :class:`StochasticMLP` maps normalised inputs ``(n, in_features)`` to ``(n, out_features)``. Its randomness is a
single standard-normal tensor of shape ``(n, noise_dim)``:

- columns ``[0, in_features)``: input noise, scaled by ``input_noise`` (paper 0.05) and added to a *copy* of the
  input (never in place, so the caller's real samples and targets stay clean);
- then ``noise_features`` columns concatenated to the input (the network's own randomness, unscaled);
- then, when ``layer_noise`` is on, one block per hidden layer (its width), scaled by a learned per-unit factor
  (initialised at ``layer_noise_init``, away from the stationary point 0) and added after the layer's ReLU.

``forward(inputs, noise=None)``: with ``noise`` given the output is a deterministic function of both tensors, and
the module exports with ``torch.export.export(net, (inputs, noise))``, ``torch.jit.trace`` or ``torch.jit.script``;
with ``noise=None`` it is drawn with ``torch.randn`` (the global torch RNG; training passes its own noise instead).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ("StochasticMLP",)


class _Hidden(nn.Module):
    """Linear + ReLU, no noise."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, h: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return torch.relu_(self.linear(h))  # in place: the linear output is not needed again (saves a copy)


class _NoisyHidden(nn.Module):
    """Linear + ReLU + learned-scale Gaussian noise read from columns ``[start, start + n_out)`` of ``noise``."""

    def __init__(self, n_in: int, n_out: int, start: int, init: float) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.scale = nn.Parameter(torch.full((n_out,), float(init)))
        self.start = start
        self.stop = start + n_out

    def forward(self, h: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return torch.relu_(self.linear(h)) + self.scale * noise[:, self.start : self.stop]


class StochasticMLP(nn.Module):
    """MLP with Gaussian input noise and optional layer-wise noise injection.

    Arguments
    ---------
    in_features, out_features
        Input and output widths (24 and 24 for Turbo-Sim's networks).
    hidden
        Hidden widths; ``(256, 128, 64)`` for the paper's encoder, ``(64, 128, 256)`` for its decoder.
    input_noise
        Scale of the standard-normal noise added to the (normalised) input; the paper's 0.05.
    noise_features
        Standard normals concatenated to the input.
    layer_noise
        Add noise with a learned per-unit scale after every hidden layer.
    layer_noise_init
        Initial value of those scales.

    Attributes
    ----------
    noise_dim : int
        Standard-normal numbers consumed per event: ``in_features + noise_features`` (+ ``sum(hidden)`` with layer
        noise).

    Example
    -------
    >>> net = StochasticMLP(24, 24, hidden=(64, 128, 256))
    >>> net(torch.zeros(5, 24), torch.zeros(5, net.noise_dim)).shape
    torch.Size([5, 24])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        hidden: tuple[int, ...] = (256, 128, 64),
        input_noise: float = 0.05,
        noise_features: int = 0,
        layer_noise: bool = False,
        layer_noise_init: float = 0.1,
    ) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.input_noise = float(input_noise)
        self.noise_features = int(noise_features)
        layers: list[nn.Module] = []
        width = self.in_features + self.noise_features
        start = width
        for h in hidden:
            layers.append(_NoisyHidden(width, h, start, layer_noise_init) if layer_noise else _Hidden(width, h))
            start += h if layer_noise else 0
            width = h
        self.hidden = nn.ModuleList(layers)
        self.output = nn.Linear(width, self.out_features)
        self.noise_dim = start

    def forward(self, inputs: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs ``(n, out_features)`` from inputs ``(n, in_features)`` and noise ``(n, noise_dim)`` ~ N(0, 1)."""
        if noise is None:
            noise = torch.randn(inputs.shape[0], self.noise_dim, dtype=inputs.dtype, device=inputs.device)
        h = inputs + self.input_noise * noise[:, : self.in_features] if self.input_noise else inputs
        if self.noise_features:
            h = torch.cat([h, noise[:, self.in_features : self.in_features + self.noise_features]], dim=1)
        for layer in self.hidden:
            h = layer(h, noise)
        return self.output(h)

    def extra_repr(self) -> str:
        return f"input_noise={self.input_noise}, noise_dim={self.noise_dim}"

"""The decay chain's map between 16 physics variables and six on-shell partons: exact both ways, physical always."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from turbosim_hep.model.decay_chain import (
    CHAIN_VARIABLES,
    N_CHAIN,
    PARTON_MASSES_GEV,
    chain_to_partons,
    partons_to_chain,
)


def random_chain(n: int, seed: int = 0) -> torch.Tensor:
    """Chain variables ``(n, 16)`` of t t̄-like events: central jets and electron, Breit–Wigner-like masses."""
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)  # noqa: E731
    cauchy = lambda m, w: m + w * torch.tan(math.pi * (u(-0.45, 0.45)))  # noqa: E731
    sign = torch.where(u(0, 1) > 0.5, 1.0, -1.0)
    cols = {
        "u_logpt": u(3.0, 5.0), "u_eta": u(-2.0, 2.0), "u_phi": u(-math.pi, math.pi),
        "dbar_eta": u(-2.0, 2.0), "dbar_phi": u(-math.pi, math.pi), "whad_m": cauchy(80.4, 1.0),
        "b_eta": u(-2.0, 2.0), "b_phi": u(-math.pi, math.pi), "thad_m": cauchy(172.8, 0.7).clamp_min(150.0),
        "tlep_y": u(-2.0, 2.0), "tlep_m": cauchy(172.8, 0.7).clamp_min(150.0),
        "bbar_eta": u(-2.0, 2.0), "bbar_phi": u(-math.pi, math.pi), "wlep_m": cauchy(80.4, 1.0),
        "e_eta": u(-2.0, 2.0), "e_phi": u(-math.pi, math.pi),
    }  # fmt: skip
    # d̄ at least 0.5 away from u in azimuth (a collinear pair would need a W of many TeV)
    cols["dbar_phi"] = cols["u_phi"] + sign * u(0.5, 2.5)
    return torch.stack([cols[k] for k in CHAIN_VARIABLES], dim=-1)


def _masses(p4: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((p4[..., 3] ** 2 - (p4[..., :3] ** 2).sum(-1)).clamp_min(0.0))


def test_partons_are_on_shell_with_the_chain_masses_and_no_ttbar_pt():
    chain = random_chain(4000)
    z = chain_to_partons(chain)
    p = z.reshape(-1, 6, 4)
    m2 = p[..., 3] ** 2 - (p[..., :3] ** 2).sum(-1)
    expected = torch.tensor(PARTON_MASSES_GEV, dtype=torch.float64) ** 2
    assert torch.allclose(m2, expected.expand_as(m2), atol=1e-6 * float(p[..., 3].max() ** 2) ** 0.5)
    assert (p[..., 3] >= torch.linalg.vector_norm(p[..., :3], dim=-1) * (1 - 1e-12)).all()  # massless: to rounding
    total = p.sum(1)
    assert torch.hypot(total[:, 0], total[:, 1]).max() < 1e-8
    # the resonances have exactly the masses the chain asked for
    e, nu, b, bbar, u, dbar = p.unbind(1)
    # tops of several TeV cannot send a b along every direction (it is then clamped): the masses hold below that
    ok = ((u + dbar + b)[:, 3] < 2000.0) & ((e + nu + bbar)[:, 3] < 2000.0)
    assert ok.float().mean() > 0.99
    pairs = ((u + dbar, "whad_m"), (e + nu, "wlep_m"), (u + dbar + b, "thad_m"), (e + nu + bbar, "tlep_m"))
    for system, col in pairs:
        assert torch.allclose(_masses(system)[ok], chain[ok, CHAIN_VARIABLES.index(col)], rtol=1e-7), col
    # the measured partons point exactly where the chain says
    for parton, name in ((u, "u"), (dbar, "dbar"), (b, "b"), (bbar, "bbar"), (e, "e")):
        eta = torch.asinh(parton[:, 2] / torch.hypot(parton[:, 0], parton[:, 1]))
        assert torch.allclose(eta, chain[:, CHAIN_VARIABLES.index(name + "_eta")], atol=1e-9), name


def test_the_two_maps_are_inverse():
    chain = random_chain(3000, seed=1)
    back = partons_to_chain(chain_to_partons(chain))
    diff = back - chain
    phi = [i for i, name in enumerate(CHAIN_VARIABLES) if name.endswith("phi")]
    diff[:, phi] = torch.remainder(diff[:, phi] + math.pi, 2 * math.pi) - math.pi
    # a b quark along a given direction has two solutions when its top is far off shell or very boosted: the map
    # takes the larger; such events are rare (0.2 % of the reference sample) and left out here
    unique = diff.abs().amax(-1) < 1e-6
    assert unique.float().mean() > 0.98
    z = chain_to_partons(chain[unique])
    assert (chain_to_partons(partons_to_chain(z)) - z).abs().max() < 1e-7 * z.abs().max()


def test_impossible_chains_still_give_physical_partons():
    chain = random_chain(500, seed=2)
    chain[:100, CHAIN_VARIABLES.index("whad_m")] = -50.0  # negative W mass
    chain[100:200, CHAIN_VARIABLES.index("thad_m")] = 10.0  # top lighter than W + b
    chain[200:300, CHAIN_VARIABLES.index("u_logpt")] = 40.0  # absurd pT
    chain[300:400, CHAIN_VARIABLES.index("e_eta")] = 1e4  # along the beam
    z = chain_to_partons(chain)
    p = z.reshape(-1, 6, 4)
    assert torch.isfinite(z).all()
    assert (p[..., 3] >= torch.linalg.vector_norm(p[..., :3], dim=-1) * (1 - 1e-12)).all()


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=f"\\(n, {N_CHAIN}\\)"):
        chain_to_partons(torch.zeros(3, 18))
    with pytest.raises(ValueError, match="\\(n, 24\\)"):
        partons_to_chain(torch.zeros(3, 16))


def test_chain_reads_the_measured_directions_of_partons():
    """The chain of partons holds their own pT, η, φ (u) and directions (the others), and the masses of their
    systems."""
    z = chain_to_partons(random_chain(50, seed=3))
    chain = partons_to_chain(z)
    u = z[:, 16:20]
    assert torch.allclose(chain[:, 0], torch.log(torch.hypot(u[:, 0], u[:, 1])))
    assert torch.allclose(chain[:, CHAIN_VARIABLES.index("e_phi")], torch.atan2(z[:, 1], z[:, 0]))
    assert np.allclose(
        chain[:, CHAIN_VARIABLES.index("tlep_m")].numpy(), _masses(z.reshape(-1, 6, 4)[:, [0, 1, 3]].sum(1)).numpy()
    )

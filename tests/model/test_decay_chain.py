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
    """Physical chain variables ``(n, 16)``: t t̄ masses above threshold, Breit–Wigner-like resonance masses."""
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64)  # noqa: E731
    cauchy = lambda m, w: m + w * torch.tan(math.pi * (u(-0.45, 0.45)))  # noqa: E731
    t_had, t_lep = cauchy(172.8, 0.7), cauchy(172.8, 0.7)
    cols = {
        "tt_m": t_had + t_lep + u(1.0, 900.0), "tt_y": u(-2.5, 2.5), "thad_cos": u(-0.99, 0.99),
        "thad_phi": u(-math.pi, math.pi), "thad_m": t_had, "tlep_m": t_lep,
        "whad_cos": u(-0.99, 0.99), "whad_phi": u(-math.pi, math.pi), "whad_m": cauchy(80.4, 1.0),
        "wlep_cos": u(-0.99, 0.99), "wlep_phi": u(-math.pi, math.pi), "wlep_m": cauchy(80.4, 1.0),
        "u_cos": u(-0.99, 0.99), "u_phi": u(-math.pi, math.pi), "e_cos": u(-0.99, 0.99), "e_phi": u(-math.pi, math.pi),
    }  # fmt: skip
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
    for got, col in ((_masses(u + dbar), "whad_m"), (_masses(e + nu), "wlep_m"), (_masses(u + dbar + b), "thad_m"),
                     (_masses(e + nu + bbar), "tlep_m"), (_masses(total), "tt_m")):  # fmt: skip
        assert torch.allclose(got, chain[:, CHAIN_VARIABLES.index(col)], rtol=1e-9, atol=1e-6), col


def test_the_two_maps_are_inverse():
    chain = random_chain(3000, seed=1)
    back = partons_to_chain(chain_to_partons(chain))
    diff = back - chain
    phi = [i for i, name in enumerate(CHAIN_VARIABLES) if name.endswith("phi")]
    diff[:, phi] = torch.remainder(diff[:, phi] + math.pi, 2 * math.pi) - math.pi
    assert diff.abs().max() < 1e-7
    z = chain_to_partons(chain)
    assert (chain_to_partons(partons_to_chain(z)) - z).abs().max() < 1e-7 * z.abs().max()


def test_impossible_chains_still_give_physical_partons():
    chain = random_chain(500, seed=2)
    chain[:100, CHAIN_VARIABLES.index("whad_m")] = -50.0  # negative W mass
    chain[100:200, CHAIN_VARIABLES.index("thad_m")] = 10.0  # top lighter than W + b
    chain[200:300, CHAIN_VARIABLES.index("tt_m")] = 1.0  # pair lighter than its tops
    chain[300:400, CHAIN_VARIABLES.index("u_cos")] = 3.0  # |cos| > 1
    z = chain_to_partons(chain)
    p = z.reshape(-1, 6, 4)
    assert torch.isfinite(z).all()
    assert (p[..., 3] >= torch.linalg.vector_norm(p[..., :3], dim=-1) * (1 - 1e-12)).all()


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=f"\\(n, {N_CHAIN}\\)"):
        chain_to_partons(torch.zeros(3, 18))
    with pytest.raises(ValueError, match="\\(n, 24\\)"):
        partons_to_chain(torch.zeros(3, 16))


def test_chain_reads_a_generated_like_event():
    """Hand-made event at rest: t t̄ at threshold along x; the chain sees m_tt, y = 0, cos θ = 0, φ = 0."""
    chain = random_chain(1, seed=3)
    chain[0, CHAIN_VARIABLES.index("tt_y")] = 0.0
    chain[0, CHAIN_VARIABLES.index("thad_cos")] = 0.0
    chain[0, CHAIN_VARIABLES.index("thad_phi")] = 0.0
    z = chain_to_partons(chain).reshape(6, 4)
    top_had = z[[2, 4, 5]].sum(0)
    assert top_had[0] > 0 and abs(float(top_had[1])) < 1e-9 and abs(float(top_had[2])) < 1e-9
    assert np.isclose(float(partons_to_chain(z.reshape(1, 24))[0, 0]), float(chain[0, 0]))


def test_angles_from_a_reference_event_invert_and_point_at_its_daughters():
    """With a reference event, every decay angle is measured from the reference's daughter: the maps stay inverse,
    partons built along the reference (cos θ = 1) point where its daughters point, and the masses do not change."""
    z = chain_to_partons(random_chain(400, seed=31))
    g = torch.Generator().manual_seed(32)
    reference = z * (1.0 + 0.05 * torch.randn(400, 24, generator=g, dtype=torch.float64))  # a smeared copy
    chain = partons_to_chain(z, reference=reference)
    assert torch.allclose(chain_to_partons(chain, reference=reference), z, atol=1e-6 * float(z.abs().max()))
    plain = partons_to_chain(z)
    for name in ("tt_m", "tt_y", "thad_m", "tlep_m", "whad_m", "wlep_m"):
        k = CHAIN_VARIABLES.index(name)
        assert torch.allclose(chain[:, k], plain[:, k])
    # the truth lies close to its smeared reference: relative polar angles small (a uniform cos θ has median 0)
    for name in ("thad_cos", "whad_cos", "u_cos", "wlep_cos", "e_cos"):
        assert float(chain[:, CHAIN_VARIABLES.index(name)].median()) > 0.8, name
    # along the reference: the u quark and the electron come out along the reference's
    along = plain.clone()
    for name in ("thad_cos", "whad_cos", "u_cos", "wlep_cos", "e_cos"):
        along[:, CHAIN_VARIABLES.index(name)] = 1.0
    built = chain_to_partons(along, reference=z).reshape(-1, 6, 4)
    target = z.reshape(-1, 6, 4)
    for slot in (0, 4):  # e⁻ and u
        cos = torch.nn.functional.cosine_similarity(built[:, slot, :3], target[:, slot, :3], dim=-1)
        assert float(cos.min()) > 1.0 - 1e-9

"""A physics-structured decoder p_θ(x|z): one shared response network per object type, outputs physical by design.

The MLP decoder of the paper maps 24 numbers to 24 numbers and must learn four-momentum kinematics, the jet ordering
and the detector's resolution from scratch; nothing stops it from emitting E < |p|. This decoder instead works the
way a detector does:

- every parton i is seen as ``(log pT, η, sin φ, cos φ, log E)`` plus its type (one of six), next to an event
  context (a small MLP over all six partons);
- one response network per object type (electron, b quark, light quark; shared by b and b̄, by u and d̄) maps
  (parton, context, its own ``object_noise`` standard normals) to ``(Δ log pT, Δη, Δφ, mass)``;
  ``jet_k = quark_k ⊕ Δ_k`` with mass ≥ 1 GeV and E = sqrt(p² + m²) ≥ |p|; the four jets are then sorted by pT;
  the electron is a residual with its PDG mass;
- the missing transverse momentum is the transverse balance: ν̄_T minus the summed mismeasurement of the visible
  objects, Σ (reco − parton)_T, plus a learned recoil term; ``MET_pzMiss`` (minus the visible pz, an OTUS
  artefact) is −Σ pz of the simulated visible objects plus a head on a compressed (sinh) scale.

The last layer of every head starts at zero, so an untrained decoder returns jets = quarks. The output is the same
24 X features as the MLP's, in normalised units (the decoder holds the normalisation as buffers), so checkpoints,
the transform, the processor and the evaluation need nothing new; :meth:`PhysicsDecoder.in_gev` gives the same
network in GeV (no normalisation round trip, so E ≥ |p| holds to the last bit of float32).
"""

from __future__ import annotations

import torch
from torch import nn

from turbosim_hep.constants import M_ELECTRON_GEV
from turbosim_hep.simulation.phase_space import PhaseSpaceBounds

__all__ = ("MATCH_DR", "PhysicsDecoder", "lost_quarks")

_N_PARTONS = 6
_N_QUARKS = 4
#: ΔR within which a jet counts as the quark's own (the data's labels of the lost-quark head).
MATCH_DR = 0.4
_PARTON_FEATURES = 5
#: Z slot of each visible object, and which response network simulates it (0 electron, 1 b quark, 2 light quark).
_VISIBLE_SLOTS = (0, 2, 3, 4, 5)
#: Objects (indices into _VISIBLE_SLOTS, a slice) each response network simulates, and the pair flag of each object.
_OBJECTS_OF_RESPONSE = ((0, 1), (1, 3), (3, 5))
_PAIR_FLAGS = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])
#: (b or light, which of the pair) of the quarks b, bbar, u, dbar: the radiation response's type inputs.
_TYPE_FLAGS = torch.tensor([[1.0, -1.0], [1.0, 1.0], [-1.0, -1.0], [-1.0, 1.0]])
_MIN_JET_MASS_GEV = 1.0
_JET_MASS_SCALE_GEV = 10.0
_RECOIL_SCALE_GEV = 20.0
_PZ_SCALE_GEV = 200.0
_E_OVER_P_FLOOR = 1e-6
_INFERENCE_CHUNK = 4096


def _mlp(n_in: int, hidden: tuple[int, ...], n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.SiLU()]
        width = h
    last = nn.Linear(width, n_out)
    last.zero_init = True  # read by the model's seeded initialisation
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


def _asinh(x: torch.Tensor) -> torch.Tensor:
    # torch.asinh (and atan2 below) are scalar loops on a CPU core: 20 ns per value, 15 % of the decoder's forward
    # (profiled with torch.profiler); the vectorised log/sqrt form is 4x faster and equal to float32 rounding
    a = x.abs()
    return torch.sign(x) * torch.log(a + torch.sqrt(a * a + 1.0))  # copysign does not export to ONNX


def _pt_eta_dir(p4: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """pT [GeV] (≥ 1 MeV), η, cos φ, sin φ of ``(..., 4)`` four-vectors (no atan2: see :func:`_asinh`)."""
    px, py, pz, _ = p4.unbind(-1)
    pt = torch.sqrt(px * px + py * py).clamp_min(1e-3)
    return pt, _asinh(pz / pt), px / pt, py / pt


def lost_quarks(z_gev: torch.Tensor, x_gev: torch.Tensor) -> torch.Tensor:
    """``(n, 4)`` float 0/1: quark b, b̄, u, d̄ of ``z_gev`` has no jet of ``x_gev`` (both ``(n, 24)`` [GeV]) within
    :data:`MATCH_DR` (the labels of the lost-quark head; 23 % of the reference sample's quarks)."""
    _, q_eta, q_cos, q_sin = _pt_eta_dir(z_gev.reshape(-1, _N_PARTONS, 4)[:, 2:])
    _, j_eta, j_cos, j_sin = _pt_eta_dir(x_gev.reshape(-1, _N_PARTONS, 4)[:, 2:])
    cos_dphi = q_cos[:, :, None] * j_cos[:, None] + q_sin[:, :, None] * j_sin[:, None]
    sin_dphi = q_sin[:, :, None] * j_cos[:, None] - q_cos[:, :, None] * j_sin[:, None]
    dr2 = (q_eta[:, :, None] - j_eta[:, None]) ** 2 + torch.atan2(sin_dphi, cos_dphi) ** 2
    return (dr2.min(dim=2).values > MATCH_DR**2).float()


def parton_features(p4: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` px, py, pz, E [GeV] -> ``(..., 5)`` log(pT/50 GeV), η/2, sin φ, cos φ, log(E/100 GeV)."""
    return _features_and_directions(p4)[0]


def _features_and_directions(p4: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """:func:`parton_features` of ``p4`` and the :func:`_pt_eta_dir` it was computed from."""
    pt, eta, cos_phi, sin_phi = directions = _pt_eta_dir(p4)
    energy = p4[..., 3].clamp_min(1e-3)
    feats = torch.stack([torch.log(pt / 50.0), eta / 2.0, sin_phi, cos_phi, torch.log(energy / 100.0)], -1)
    return feats, directions


def _visible(t: torch.Tensor) -> torch.Tensor:
    """The :data:`_VISIBLE_SLOTS` of ``t`` ``(n, 6, ...)`` (all but slot 1), as two slices: a copy like
    ``t[:, list(_VISIBLE_SLOTS)]`` without the advanced index."""
    return torch.cat([t[:, :1], t[:, 2:]], dim=1)


class _GeVView(nn.Module):
    """The decoder in GeV: ``forward(z [GeV] (n, 24), noise (n, noise_dim)) -> x [GeV] (n, 24)``."""

    def __init__(self, decoder: PhysicsDecoder) -> None:
        super().__init__()
        self.decoder = decoder
        self.noise_dim = decoder.noise_dim
        #: The bounds simulate() redraws into (``None``: the model was trained without truncation), and how often.
        self.phase_space = decoder.phase_space
        self.redraw_attempts = decoder.redraw_attempts
        self._first_layers: tuple[tuple, list] = ((), [])

    def first_layers(self) -> list[tuple[torch.Tensor, ...]]:
        """The decoder's :meth:`~PhysicsDecoder._first_layers`, made again only when a response network's first layer
        changed (an optimiser step, a load, a move): made per call, a late redraw of 20 events took 1.2x as long
        (783 against 654 us, one thread)."""
        tensors = [t for net in self.decoder.responses for t in (net[0].weight, net[0].bias)]
        key = tuple((t.data_ptr(), None if t.is_inference() else t._version, t.dtype, t.device) for t in tensors)
        if key != self._first_layers[0]:
            self._first_layers = (key, self.decoder._first_layers())
        return self._first_layers[1]

    def forward(self, z_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        n = z_gev.shape[0]
        if torch.is_grad_enabled():
            return self.decoder.simulate_gev(z_gev, noise)
        if noise is None:
            noise = torch.randn(n, self.noise_dim, dtype=z_gev.dtype, device=z_gev.device)
        weights = self.first_layers()
        if n <= _INFERENCE_CHUNK:
            return self.decoder._simulate(z_gev, noise, weights)
        # many small element-wise ops: chunks that stay in cache run 1.6x faster on a CPU core than one 65k batch
        # (292k against 183k events/s, benchmarks/throughput.py); the result does not depend on the chunking
        parts = [
            self.decoder._simulate(z_gev[i : i + _INFERENCE_CHUNK], noise[i : i + _INFERENCE_CHUNK], weights)
            for i in range(0, n, _INFERENCE_CHUNK)
        ]
        return torch.cat(parts)


class PhysicsDecoder(nn.Module):
    """Parton event z -> detector event x through per-object response networks (see the module docstring).

    Arguments
    ---------
    context_dim
        Width of the event context every response network sees.
    hidden
        Hidden widths of each response network and of the context, recoil and pz heads (SiLU).
    object_noise
        Standard normals per visible object (≥ 4): the object's own randomness.
    met_noise
        Standard normals of the recoil and pzMiss heads.
    event_noise
        Standard normals shared by all objects of an event (they enter the event context): where a correlated
        response lives (a jet energy scale common to the jets, recoil, radiation that shifts several objects).
    phase_space
        The detector's phase space (:class:`~turbosim_hep.simulation.phase_space.PhaseSpaceBounds`) the model
        was trained to be truncated to: pT and η are reflected at the one-object edges, and draws breaking a pairwise
        cut are redrawn, up to ``redraw_attempts`` draws per event (training scores the truncated draws;
        ``simulate()`` redraws with the event's next keyed noise). ``None``: no truncation.
    met_per_object
        The MET head also reads each visible object's transverse mismeasurement ``(n, 5, 2)`` / 50 GeV, not only
        their sum (:meth:`widened_state` warm-starts it from a decoder without).

    Attributes
    ----------
    noise_dim : int
        ``5 * object_noise + met_noise + event_noise`` standard normals per event, in that order.

    Example
    -------
    >>> dec = PhysicsDecoder()
    >>> dec(torch.zeros(3, 24), torch.zeros(3, dec.noise_dim)).shape
    torch.Size([3, 24])
    """

    physical = True

    def __init__(
        self,
        *,
        context_dim: int = 32,
        hidden: tuple[int, ...] = (64, 64),
        object_noise: int = 8,
        met_noise: int = 8,
        event_noise: int = 0,
        phase_space: PhaseSpaceBounds | None = None,
        redraw_attempts: int = 32,
        radiation: bool = False,
        jet_mass_bound: float = 0.0,
        met_per_object: bool = False,
    ) -> None:
        super().__init__()
        if object_noise < 4:
            raise ValueError(f"object_noise must be at least 4, got {object_noise!r}")
        if event_noise < 0 or redraw_attempts < 1:
            raise ValueError(f"need event_noise >= 0, redraw_attempts >= 1; got {event_noise!r}, {redraw_attempts!r}")
        if not jet_mass_bound >= 0:
            raise ValueError(f"jet_mass_bound (largest jet m / pT; 0: unbounded) must be >= 0, got {jet_mass_bound!r}")
        self.jet_mass_bound = float(jet_mass_bound)
        self.object_noise = int(object_noise)
        self.met_noise = int(met_noise)
        self.event_noise = int(event_noise)
        self.phase_space = phase_space
        self.redraw_attempts = int(redraw_attempts)
        self.radiation = bool(radiation)
        self.met_per_object = bool(met_per_object)
        n_switch = _N_QUARKS if self.radiation else 0
        self.noise_dim = len(_VISIBLE_SLOTS) * self.object_noise + self.met_noise + self.event_noise + n_switch
        n_parton_in = _N_PARTONS * _PARTON_FEATURES
        n_context_in = n_parton_in + self.event_noise
        self.context = nn.Sequential(nn.Linear(n_context_in, hidden[0]), nn.SiLU(), nn.Linear(hidden[0], context_dim))
        if self.radiation:
            # P(quark k has no jet within ΔR 0.4 | z), fitted to the data's matching (:meth:`lost_logits`), and the
            # response of a quark that lost its jet: the jet the selection counted instead (radiation, a merged or
            # split jet), drawn around the quark with a wide, learned spread
            self.lost = nn.Sequential(
                nn.Linear(n_parton_in, hidden[0]), nn.SiLU(), nn.Linear(hidden[0], hidden[0]), nn.SiLU(),
                nn.Linear(hidden[0], _N_QUARKS),
            )  # fmt: skip
            self.radiation_response = _mlp(_PARTON_FEATURES + 2 + context_dim + self.object_noise, hidden, 4)
        n_resp_in = _PARTON_FEATURES + 1 + context_dim + self.object_noise  # + which of the pair (b or bbar, ...)
        self.responses = nn.ModuleList([_mlp(n_resp_in, hidden, 4) for _ in range(3)])
        n_per_object = 2 * len(_VISIBLE_SLOTS) if self.met_per_object else 0
        self.recoil = _mlp(context_dim + 4 + self.met_noise + n_per_object, hidden, 3)
        for name, size in (("z_mean", 24), ("z_std", 24), ("x_mean", 24), ("x_std", 24)):
            self.register_buffer(name, torch.zeros(size) if "mean" in name else torch.ones(size))

    def set_normalisation(self, z_mean, z_std, x_mean, x_std) -> None:
        """Store the per-feature normalisation ``(24,)`` [GeV] the decoder's normalised interface uses."""
        for name, value in (("z_mean", z_mean), ("z_std", z_std), ("x_mean", x_mean), ("x_std", x_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def in_gev(self) -> _GeVView:
        """The same network taking and returning GeV (what the transform runs)."""
        return _GeVView(self)

    def forward(self, inputs: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised x ``(n, 24)`` from normalised z ``(n, 24)`` and noise ``(n, noise_dim)`` ~ N(0, 1)."""
        z_gev = inputs * self.z_std + self.z_mean
        return (self.simulate_gev(z_gev, noise) - self.x_mean) / self.x_std

    def simulate_gev(self, z_gev: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """x [GeV] ``(n, 24)``: electron, MET (px, py, pzMiss, |p|), jets by descending pT, from z [GeV]."""
        if noise is None:
            noise = torch.randn(z_gev.shape[0], self.noise_dim, dtype=z_gev.dtype, device=z_gev.device)
        return self._simulate(z_gev, noise, None)

    def _first_layers(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """:meth:`_first_layer` of each response network."""
        return [self._first_layer(i) for i in range(len(self.responses))]

    def _first_layer(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Response network ``i``'s first layer split as :meth:`_simulate` applies it: the bias with the pair flags
        folded in ``(1, objects * hidden)``, the context block ``(context_dim, objects * hidden)`` and the block of
        the object's own inputs ``(hidden, 5 + object_noise)``."""
        (k0, k1), first = _OBJECTS_OF_RESPONSE[i], self.responses[i][0]
        w, n_feat, n_ctx = first.weight, _PARTON_FEATURES, self.context[-1].out_features
        flags = _PAIR_FLAGS[k0:k1].to(w)
        bias = first.bias + flags[:, None] * w[:, n_feat]  # (objects, hidden): the pair flag folded in
        w_context = w[:, n_feat + 1 : n_feat + 1 + n_ctx].T.repeat(1, k1 - k0)
        w_own = torch.cat([w[:, :n_feat], w[:, n_feat + 1 + n_ctx :]], dim=1)
        return bias.reshape(1, -1), w_context, w_own

    def _simulate(
        self, z_gev: torch.Tensor, noise: torch.Tensor, weights: list[tuple[torch.Tensor, ...]] | None
    ) -> torch.Tensor:
        """:meth:`simulate_gev` with the noise given. ``weights``: :meth:`_first_layers`, made once for many calls
        without gradients (the inference chunks and redraws; ``None``: made here, per network, in the order training
        always built its graph). Every path computes the same numbers bit for bit (tests/model/test_physics_decoder)."""
        n = z_gev.shape[0]
        p4 = z_gev.reshape(n, _N_PARTONS, 4)
        feats, directions = _features_and_directions(p4)  # (n, 6, 5)
        n_obj = len(_VISIBLE_SLOTS) * self.object_noise
        met_noise = noise[:, n_obj : n_obj + self.met_noise]
        context_in = feats.reshape(n, -1)
        if self.event_noise:  # shared by every object: common mismeasurement, recoil, radiation
            e0 = n_obj + self.met_noise
            context_in = torch.cat([context_in, noise[:, e0 : e0 + self.event_noise]], dim=-1)
        context = self.context(context_in)

        object_noise = noise[:, :n_obj].reshape(n, len(_VISIBLE_SLOTS), -1)
        # one call per response network over all objects of its type (b and bbar together, u and dbar together);
        # its first layer W·[parton, pair flag, context, noise] is applied block by block, the context block once
        # per network instead of once per object, and no (n, 46) inputs are concatenated: 1.3x faster forward
        parts = []
        for i, (net, (k0, k1)) in enumerate(zip(self.responses, _OBJECTS_OF_RESPONSE, strict=True)):
            first = self._first_layer(i) if weights is None else weights[i]
            hidden = torch.addmm(first[0], context, first[1]).reshape(n, k1 - k0, -1)
            own = torch.cat([feats[:, _VISIBLE_SLOTS[k0] : _VISIBLE_SLOTS[k1 - 1] + 1], object_noise[:, k0:k1]], -1)
            hidden = (hidden + torch.matmul(own, first[2].T)).reshape(n * (k1 - k0), -1)  # (n * objects, hidden)
            for layer in list(net)[1:]:  # not net[1:]: slicing builds a new Sequential every call
                hidden = layer(hidden)
            parts.append(hidden.reshape(n, k1 - k0, -1))
        delta = torch.cat(parts, dim=1)  # (n, 5, 4), objects in _VISIBLE_SLOTS order
        if self.radiation:
            u = 0.5 * (1.0 + torch.erf(noise[:, -_N_QUARKS:] * 0.7071067811865476))  # uniforms from the switch noise
            lost = (u < torch.sigmoid(self.lost(feats.reshape(n, -1)))).flatten()  # (n * 4,) event-major
            rows = torch.nonzero(lost).flatten()  # only the lost quarks (a fifth) go through the wide response
            event, quark = rows // _N_QUARKS, rows % _N_QUARKS
            rad_in = torch.cat(
                [feats[event, 2 + quark], _TYPE_FLAGS.to(feats)[quark], context[event], object_noise[event, 1 + quark]],
                dim=-1,
            )
            quark_delta = delta[:, 1:].reshape(n * _N_QUARKS, -1).index_put((rows,), self.radiation_response(rad_in))
            delta = torch.cat([delta[:, :1], quark_delta.reshape(n, _N_QUARKS, -1)], dim=1)

        if weights is None:  # the graph training back-propagates through, as it always was
            visible = p4[:, list(_VISIBLE_SLOTS)]
            pt, eta, cos_phi, sin_phi = _pt_eta_dir(visible)
        else:  # the same numbers, taken from the partons' (16 fewer ops)
            visible = None
            pt, eta, cos_phi, sin_phi = (_visible(d) for d in directions)
        pt_r = pt * torch.exp(delta[..., 0].clamp(-6.0, 3.0))
        eta_r = (eta + delta[..., 1]).clamp(-6.0, 6.0)
        if self.phase_space is not None:
            pt_r, eta_r = self._reflect_into_acceptance(pt_r, eta_r)
        cos_d, sin_d = torch.cos(delta[..., 2]), torch.sin(delta[..., 2])  # φ_reco = φ + Δφ, rotated without atan2
        m_raw = delta[..., 3]  # softplus, vectorised (torch's is a scalar loop on CPU, 20 ns per value)
        mass = _MIN_JET_MASS_GEV + _JET_MASS_SCALE_GEV * (m_raw.clamp_min(0.0) + torch.log1p(torch.exp(-m_raw.abs())))
        if self.jet_mass_bound:  # a smooth minimum (power 8) of m and bound * pT: the bulk unchanged (m = 0.4 and
            # 0.6 bound·pT move by 0.01 and 0.2 %), no jet wider than its cone (anti-kt: m / pT < 0.72 R in full sim)
            ratio = (mass / (self.jet_mass_bound * pt_r)).clamp(max=1e4)
            r2 = ratio * ratio
            r4 = r2 * r2  # m · (1 + r^8)^(-1/8) by squarings and roots: 1.6x faster than two pow (7 ms per 200k events)
            mass = mass * torch.rsqrt(torch.sqrt(torch.sqrt(1.0 + r4 * r4)))
        mass = torch.cat([torch.full_like(mass[:, :1], M_ELECTRON_GEV), mass[:, 1:]], dim=1)
        rpx = pt_r * (cos_phi * cos_d - sin_phi * sin_d)
        rpy = pt_r * (sin_phi * cos_d + cos_phi * sin_d)
        rpz = pt_r * torch.sinh(eta_r)
        p_abs = torch.sqrt(rpx * rpx + rpy * rpy + rpz * rpz)
        energy = torch.sqrt(p_abs * p_abs + mass * mass)
        # a 1 GeV mass on a 3 TeV forward jet is below float32 rounding: keep E - |p| above it, so that a mass
        # recomputed from the stored float32 (px, py, pz, E) is never negative (m >= 1.4e-3 |p|; jets only)
        jet_floor = torch.cat([torch.zeros_like(p_abs[:, :1]), torch.full_like(p_abs[:, 1:], _E_OVER_P_FLOOR)], 1)
        energy = torch.maximum(energy, p_abs * (1.0 + jet_floor))
        reco = torch.stack([rpx, rpy, rpz, energy], dim=-1)  # (n, 5, 4)

        visible_xy = _visible(p4[..., :2]) if visible is None else visible[..., :2]
        per_object = reco[..., :2] - visible_xy  # (n, 5, 2): each visible object's transverse mismeasurement
        mismeasured = per_object.sum(dim=1)  # (n, 2)
        summary = torch.cat([mismeasured / 50.0, reco[..., 2].sum(dim=1, keepdim=True) / 500.0, pt_r[:, :1] / 50.0], -1)
        head_in = [context, summary, met_noise]
        if self.met_per_object:  # which object was mismeasured, not only by how much in all: a b jet soft by a
            # neutrino of its own decay leaves more missing pT along it than one soft by radiation out of its cone
            head_in.append(per_object.reshape(n, -1) / 50.0)
        head = self.recoil(torch.cat(head_in, dim=-1))
        met_xy = p4[:, 1, :2] - mismeasured + _RECOIL_SCALE_GEV * head[:, :2]
        pz_miss = -reco[..., 2].sum(dim=1) + _PZ_SCALE_GEV * torch.sinh(head[:, 2].clamp(-8.0, 8.0))
        met_e = torch.sqrt(met_xy[:, 0] ** 2 + met_xy[:, 1] ** 2 + pz_miss**2)
        met = torch.cat([met_xy, pz_miss[:, None], met_e[:, None]], dim=-1)

        jets = reco[:, 1:]
        order = torch.argsort(jets[..., 0] ** 2 + jets[..., 1] ** 2, dim=1, descending=True)
        jets = torch.gather(jets, 1, order[..., None].expand(-1, -1, 4))
        return torch.cat([reco[:, 0], met, jets.reshape(n, 16)], dim=-1)

    def _reflect_into_acceptance(self, pt: torch.Tensor, eta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each object's pT and η ``(n, 5)`` (electron, four jets) reflected at its acceptance edges: pT below the
        threshold t (a jet's: the jet finder's after the energy scale, at its |η|) goes to 2t − pT, |η| beyond the
        edge e to 2e − |η| (then clipped to e). The one-object cuts of the phase space hold by construction, and the
        density stays non-zero at the edges as the data's is; only the pairwise cuts (jets ≥ R apart, an isolated
        electron) are left to redraws: 4x fewer redraws."""
        b = self.phase_space
        edge = torch.tensor([b.track_eta_max] + [b.calo_eta_max] * 4, dtype=eta.dtype, device=eta.device)
        a = eta.abs()
        eta = torch.where(a > edge, torch.sign(eta) * (2.0 * edge - a), eta)
        eta = torch.maximum(torch.minimum(eta, edge), -edge)
        # the jets' threshold is the jet finder's after the energy scale, at the jet's own (reflected) |η|
        jet_thr = b.jet_pt_threshold(eta[:, 1:].abs())
        thr = torch.cat([torch.full_like(jet_thr[:, :1], b.electron_pt_min), jet_thr], dim=1)
        return torch.where(pt < thr, 2.0 * thr - pt, pt), eta

    def widened_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``state`` (a decoder's weights) for this decoder: when this one's recoil head also reads each object's
        mismeasurement (``met_per_object``) and the saved one's did not, its first layer gets zero columns for those
        inputs, so the decoder starts as the saved one computed (a warm start for ``--decoder-from``)."""
        key = "recoil.0.weight"
        want = self.recoil[0].weight.shape[1]
        if key in state and state[key].shape[1] < want:
            w = state[key]
            state = {**state, key: torch.cat([w, w.new_zeros(w.shape[0], want - w.shape[1])], dim=1)}
        return state

    def lost_logits(self, z_gev: torch.Tensor) -> torch.Tensor:
        """``(n, 4)`` logits of P(quark b, b̄, u, d̄ has no jet within :data:`MATCH_DR` | z) (radiation head)."""
        return self.lost(parton_features(z_gev.reshape(len(z_gev), _N_PARTONS, 4)).reshape(len(z_gev), -1))

    def extra_repr(self) -> str:
        bound = f", jet_mass_bound={self.jet_mass_bound}" if self.jet_mass_bound else ""
        per_object = ", met_per_object=True" if self.met_per_object else ""
        return f"noise_dim={self.noise_dim}{bound}{per_object}"

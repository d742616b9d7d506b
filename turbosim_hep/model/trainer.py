"""One Turbo-Sim optimisation state: the model, its optimisers, batches, critic and generator steps, the EMA of the
weights, and the state an exact resume needs.

:func:`turbosim_hep.model.training.train_arrays` drives it epoch by epoch; ``benchmarks/training.py`` times its
steps. On CUDA the forward passes run under bfloat16 autocast; the CPU runs float32 and, with a fixed thread count,
is bit-for-bit reproducible.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from turbosim_hep.model.checkpoint import read_checkpoint
from turbosim_hep.model.config import TurboSimConfig
from turbosim_hep.model.normalisation import Normalisation
from turbosim_hep.model.turbosim import TurboSim
from turbosim_hep.runtime.device import resolve_device
from turbosim_hep.simulation.registry import open_model

__all__ = ("Trainer", "decoder_state", "network_state")


#: The configuration fields that shape each network: a network taken from another model must agree on them.
_NETWORK_FIELDS = {
    "decoder": ("decoder_kind", "decoder_hidden", "physics_context", "physics_hidden", "object_noise", "event_noise",
                "truncate", "radiation"),
    "encoder": ("encoder_kind", "encoder_hidden", "noise_features", "flow_context", "flow_hidden", "flow_transforms",
                "flow_passes", "flow_assignment", "flow_lab", "flow_electron"),
}  # fmt: skip


def network_state(source: str, config: TurboSimConfig, network: str) -> dict[str, torch.Tensor]:
    """The ``network`` ("encoder" or "decoder") weights of the model ``source`` (file or shipped name), checked
    against ``config``'s settings of that network."""
    content = read_checkpoint(open_model(source))
    saved = TurboSimConfig.from_dict(content["config"])
    differ = [f for f in _NETWORK_FIELDS[network] if getattr(saved, f) != getattr(config, f)]
    if network == "decoder" and saved.met_per_object and not config.met_per_object:
        differ.append("met_per_object")  # the other way is a warm start (PhysicsDecoder.widened_state)
    if differ:
        raise ValueError(
            f"{network}_from={source!r}: its {network} differs from this configuration's in {differ!r} "
            f"({', '.join(f'{f}={getattr(saved, f)!r}' for f in differ)}); pass the same {network} settings"
        )
    prefix = network + "."
    return {k.removeprefix(prefix): v for k, v in content["model"].items() if k.startswith(prefix)}


def decoder_state(source: str, config: TurboSimConfig) -> dict[str, torch.Tensor]:
    """The decoder weights of the model ``source`` (file or shipped name), checked against ``config``'s decoder."""
    return network_state(source, config, "decoder")


class Trainer:
    """Model, optimisers, random generators and normalised training tensors of one run.

    Arguments
    ---------
    z, x
        Normalised training features ``(n, 24)`` float32 (paired rows).
    config
        The run's configuration.
    device
        Where to train (see :func:`resolve_device`).
    """

    def __init__(
        self,
        z: np.ndarray,
        x: np.ndarray,
        *,
        config: TurboSimConfig,
        device: str | torch.device | None = None,
        z_norm: Normalisation | None = None,
        x_norm: Normalisation | None = None,
    ) -> None:
        self.config = config
        self.device = resolve_device(device)
        model = TurboSim(config, generator=torch.Generator().manual_seed(config.seed))
        if z_norm is not None and x_norm is not None:
            model.set_normalisation(z_norm.mean, z_norm.std, x_norm.mean, x_norm.std)
        elif config.decoder_kind == "physics":
            raise ValueError("a physics decoder needs the normalisation: pass z_norm and x_norm to the Trainer")
        if config.decoder_from:
            state = decoder_state(config.decoder_from, config)
            widen = getattr(model.decoder, "widened_state", None)
            model.decoder.load_state_dict(widen(state) if widen else state)
        if config.encoder_from:
            model.encoder.load_state_dict(network_state(config.encoder_from, config, "encoder"))
        if (config.decoder_from or config.encoder_from) and z_norm is not None and x_norm is not None:
            # the physics decoder keeps its normalisation as buffers, so the state just loaded brought the source
            # model's: this run's (fitted on its own training data) must win, or the decoder converts with one and
            # the model with the other, and a 1 % change of scale leaves most jets with E < |p| (measured: a run on
            # ttbar-ref + a second sample scored 93 % of D(z) outside the phase space in validation)
            model.set_normalisation(z_norm.mean, z_norm.std, x_norm.mean, x_norm.std)
        if config.freeze_decoder:
            model.decoder.requires_grad_(False)
        if config.freeze_encoder:
            model.encoder.requires_grad_(False)
        self.model = model.to(self.device)
        # learned noise scales are not weight-decayed: decay would pull them to 0, a stationary point
        trained = tuple(f"{net}." for net in ("encoder", "decoder") if not getattr(config, f"freeze_{net}"))
        params = dict((n, p) for n, p in self.model.named_parameters() if n.startswith(trained))
        scales = [p for n, p in params.items() if n.endswith(".scale")]
        others = [p for n, p in params.items() if not n.endswith(".scale")]
        groups = [{"params": others}] + ([{"params": scales, "weight_decay": 0.0}] if scales else [])
        self._generator_params = list(params.values())
        # exponential moving average of the generator weights: what validation scores and the best model holds
        self.ema = [p.detach().clone() for p in self._generator_params] if config.ema > 0 else None
        self.gen_opt = torch.optim.Adam(groups, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)
        self.critic_opt = (
            torch.optim.Adam(
                self.model.critics.parameters(),
                lr=config.critic_lr,
                betas=config.critic_betas,
                weight_decay=config.critic_weight_decay,
            )
            if len(self.model.critics)
            else None
        )
        self.batch_rng = torch.Generator().manual_seed(config.seed + 1)
        self.noise_rng = torch.Generator(device=self.device).manual_seed(config.seed + 2)
        self.z = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32)).to(self.device)
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        self.autocast = self.device.type == "cuda"
        self.flips = _beam_flips(z_norm, x_norm, self.device) if config.beam_flip else None

    def set_epoch(self, epoch: int, epochs: int) -> float:
        """Set the learning rates of ``epoch`` (1-based) of ``epochs`` by ``config.lr_schedule``; returns the factor."""
        factor = 1.0
        if self.config.lr_schedule == "cosine" and epochs > 1:
            floor = 0.05
            factor = floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / (epochs - 1)))
        for opt, lr in ((self.gen_opt, self.config.lr), (self.critic_opt, self.config.critic_lr)):
            if opt is not None:
                for group in opt.param_groups:
                    group["lr"] = lr * factor
        return factor

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(self.z), (self.config.batch_size,), generator=self.batch_rng).to(self.device)
        z, x = self.z[idx], self.x[idx]
        if self.flips is None:
            return z, x
        flip = (torch.rand(len(idx), generator=self.batch_rng) < 0.5).to(self.device)[:, None]
        (z_sign, z_shift), (x_sign, x_shift) = self.flips
        return torch.where(flip, z * z_sign + z_shift, z), torch.where(flip, x * x_sign + x_shift, x)

    def step(self) -> dict[str, torch.Tensor]:
        """``critic_steps`` critic updates then one generator update; detached losses (``total``, terms, critics)."""
        out: dict[str, torch.Tensor] = {}
        model = self.model
        if self.critic_opt is not None and self.config.critic_steps > 0:
            for _ in range(self.config.critic_steps):
                z, x = self._batch()
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                    loss, parts = model.critic_loss(z, x, generator=self.noise_rng)
                self.critic_opt.zero_grad(set_to_none=True)
                loss.backward()
                self.critic_opt.step()
            out.update({f"critic_{k}": v.detach() for k, v in parts.items()})
        z, x = self._batch()
        model.critics.requires_grad_(False)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            loss, terms = model.generator_loss(z, x, generator=self.noise_rng)
        self.gen_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.gen_opt.step()
        if self.ema is not None:
            with torch.no_grad():
                torch._foreach_lerp_(self.ema, self._generator_params, 1.0 - self.config.ema)
        model.critics.requires_grad_(True)
        out["total"] = loss.detach()
        out.update({k: v.detach() for k, v in terms.items()})
        return out

    @contextlib.contextmanager
    def averaged(self) -> Iterator[None]:
        """Inside: the model holds the moving-average weights (``config.ema > 0``; else nothing changes)."""
        if self.ema is None:
            yield
            return
        with torch.no_grad():
            raw = [p.detach().clone() for p in self._generator_params]
            torch._foreach_copy_(self._generator_params, self.ema)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self._generator_params, raw)

    def state(self) -> dict[str, Any]:
        """Optimiser and random-generator states (tensors and plain data) for an exact resume."""
        return {
            "ema": None if self.ema is None else [t.detach().cpu().clone() for t in self.ema],
            "optimisers": {
                "generator": self.gen_opt.state_dict(),
                "critic": self.critic_opt.state_dict() if self.critic_opt is not None else None,
            },
            "rng": {"batches": self.batch_rng.get_state(), "noise": self.noise_rng.get_state()},
            "device_type": self.device.type,
        }

    def load_state(self, model_state: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        """Restore weights, optimisers and generators saved by :meth:`state`."""
        self.model.load_state_dict(model_state, strict=True)
        if self.ema is not None:
            with torch.no_grad():
                torch._foreach_copy_(self.ema, [t.to(self.device) for t in state["ema"]])
        self.gen_opt.load_state_dict(state["optimisers"]["generator"])
        if self.critic_opt is not None:
            self.critic_opt.load_state_dict(state["optimisers"]["critic"])
        self.batch_rng.set_state(state["rng"]["batches"])
        if state.get("device_type") == self.device.type:
            self.noise_rng.set_state(state["rng"]["noise"])
        else:
            warnings.warn(
                f"resuming on {self.device.type} a run saved on {state.get('device_type')}: the noise stream "
                "restarts, so the result is not bit-identical to an uninterrupted run",
                stacklevel=2,
            )
            self.noise_rng.manual_seed(self.config.seed + 2 + int(state.get("epoch", 0)))


def _beam_flips(
    z_norm: Normalisation | None, x_norm: Normalisation | None, device: torch.device
) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """(sign, shift) ``(24,)`` per side such that ``u * sign + shift`` is the normalised event ``u`` rotated by π about
    the x axis (p_y, p_z of every object negated in GeV; the MET slot's p_z is its pzMiss, its 4th entry |p|)."""
    if z_norm is None or x_norm is None:
        raise ValueError("beam_flip needs the normalisation: pass z_norm and x_norm to the Trainer")
    sign = np.tile(np.array([1.0, -1.0, -1.0, 1.0]), 6)
    out = []
    for norm in (z_norm, x_norm):
        mean, std = np.asarray(norm.mean, dtype=np.float64), np.asarray(norm.std, dtype=np.float64)
        shift = (sign - 1.0) * mean / std  # (sign * (u std + mean) - mean) / std
        out.append(tuple(torch.as_tensor(a, dtype=torch.float32, device=device) for a in (sign, shift)))
    return tuple(out)

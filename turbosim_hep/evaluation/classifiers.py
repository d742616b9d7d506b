"""Classifier two-sample tests of the scorecard: rich marginal and conditional (pair) AUCs, with their spreads.

A gradient-boosted classifier is trained to tell a model's events from full-simulation events and scored on a
held-out part of its data (:func:`heldout_auc`); its ROC AUC is 0.5 when the two are indistinguishable. The spread is
the bootstrap standard deviation of the held-out AUC. The samples are independent: the model's output from the
test events of half A against the truth of half B, and the floor is the same test between the truths of A and B.

:func:`classifier_scorecard` runs, on the rich features of :mod:`.features`:

- ``rich_x``: x̃ = D(z) against x (the headline simulation AUC);
- ``pair_simulation``: pairs (z, D(z)) against (z, x): does x̃ follow *its* z as x follows z? A model that draws
  x̃ from the marginal p(x) passes ``rich_x`` and fails this one;
- ``rich_z``: z̃ = E(x) against z; ``pair_unfolding``: (E(x), x) against (z, x);
- ``refolding``: x̂ = D(E(x)) against x (closure of the two directions);

and the floors ``floor_x``, ``floor_pair``, ``floor_z`` (truth A against truth B).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from turbosim_hep.evaluation.features import detector_features, parton_features

__all__ = ("CLASSIFIER_TESTS", "classifier_scorecard", "heldout_auc")

#: The tests of :func:`classifier_scorecard`: key -> (description, the output it needs).
CLASSIFIER_TESTS: dict[str, tuple[str, str | None]] = {
    "rich_x": ("x̃ = D(z) vs x, rich features", "x_tilde"),
    "pair_simulation": ("(z, D(z)) vs (z, x) pairs", "x_tilde"),
    "rich_z": ("z̃ = E(x) vs z, rich features", "z_tilde"),
    "pair_unfolding": ("(E(x), x) vs (z, x) pairs", "z_tilde"),
    "refolding": ("x̂ = D(E(x)) vs x, rich features", "x_hat"),
    "floor_x": ("x vs x (truth halves)", None),
    "floor_pair": ("(z, x) vs (z, x) (truth halves)", None),
    "floor_z": ("z vs z (truth halves)", None),
}


#: Fewest events in each half before evaluate runs its classifier tests (below, the report says they were skipped:
#: held-out folds and early stopping of a few events fail or say nothing).
MIN_CLASSIFIER_EVENTS = 100


def heldout_auc(
    a: np.ndarray,
    b: np.ndarray,
    *,
    test_fraction: float = 1 / 3,
    max_events: int | None = 50_000,
    max_iter: int = 200,
    n_boot: int = 100,
    seed: int = 0,
    n_threads: int | None = 1,
) -> dict[str, float | int]:
    """ROC AUC of a classifier telling ``a`` ``(n, k)`` from ``b`` ``(m, k)``, on a held-out part, with its spread.

    A ``HistGradientBoostingClassifier`` (early stopping on 10 % of its training part) is fitted on ``1 −
    test_fraction`` of each sample and scored on the rest. Returns ``{"auc", "spread" (bootstrap std of the held-out
    AUC), "null_std" (a useless classifier's spread at these sizes), "n_train", "n_test"}``. NaN and infinities are
    missing values. Each sample is first cut to ``max_events`` random rows; seeded and deterministic.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from turbosim_hep.evaluation.metrics import auc_null_std

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need (n, k) and (m, k) arrays with the same k, got {a.shape!r} and {b.shape!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be within (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    a, b = (s[rng.permutation(len(s))[:max_events]] for s in (a, b))
    n_test = [int(round(len(s) * test_fraction)) for s in (a, b)]
    if min(n_test) < 2 or min(len(a), len(b)) - max(n_test) < 2:
        raise ValueError(f"too few events for a held-out classifier test: {len(a)} and {len(b)}")
    train = np.concatenate([a[n_test[0] :], b[n_test[1] :]])
    test = np.concatenate([a[: n_test[0]], b[: n_test[1]]])
    y_train = np.r_[np.zeros(len(a) - n_test[0]), np.ones(len(b) - n_test[1])]
    y_test = np.r_[np.zeros(n_test[0]), np.ones(n_test[1])]
    for arr in (train, test):
        arr[~np.isfinite(arr)] = np.nan
    clf = HistGradientBoostingClassifier(max_iter=max_iter, early_stopping=True, random_state=seed)
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        clf.fit(train, y_train)
        score = clf.predict_proba(test)[:, 1]
    auc = float(roc_auc_score(y_test, score))
    boots = []
    for _ in range(n_boot):
        rows = rng.integers(0, len(y_test), len(y_test))
        if 0 < y_test[rows].sum() < len(rows):
            boots.append(roc_auc_score(y_test[rows], score[rows]))
    return {
        "auc": auc,
        "spread": float(np.std(boots, ddof=1)) if len(boots) > 1 else float("nan"),
        "null_std": auc_null_std(*n_test),
        "n_train": len(y_train),
        "n_test": len(y_test),
    }


def classifier_scorecard(
    z: np.ndarray,
    x: np.ndarray,
    outputs: Mapping[str, np.ndarray | None],
    half: np.ndarray,
    *,
    max_events: int | None = 50_000,
    max_iter: int = 200,
    seed: int = 0,
    reconstruct: Callable | None = None,
    tests: tuple[str, ...] | None = None,
) -> dict[str, dict[str, Any]]:
    """The classifier tests of :data:`CLASSIFIER_TESTS` on test events ``z``, ``x`` ``(n, 24)`` [GeV].

    ``outputs`` maps ``x_tilde``, ``z_tilde``, ``x_hat`` to the model's ``(n, 24)`` outputs for the same events (a
    missing or ``None`` output skips its tests); ``half`` is the boolean ``(n,)`` mask of half A. ``tests``
    restricts the run to some keys. Returns ``{test: heldout_auc result + "description"}``.
    """
    from turbosim_hep.evaluation.features import _response_features

    half = np.asarray(half, dtype=bool)
    a, b = half, ~half
    cache: dict[str, np.ndarray] = {}

    def rich(key: str, arr: np.ndarray, space: str) -> np.ndarray:
        if key not in cache:
            cache[key] = parton_features(arr)[0] if space == "Z" else detector_features(arr, reconstruct=reconstruct)[0]
        return cache[key]

    def pairs(zk: str, zv: np.ndarray, xk: str, xv: np.ndarray, rows: np.ndarray) -> np.ndarray:
        resp = _response_features(zv[rows], xv[rows])[0]
        return np.concatenate([rich(zk, zv, "Z")[rows], rich(xk, xv, "X")[rows], resp], 1)

    def get(name: str) -> np.ndarray | None:
        v = outputs.get(name)
        return None if v is None else np.asarray(v, dtype=np.float64)

    xt, zt, xh = get("x_tilde"), get("z_tilde"), get("x_hat")
    jobs: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
        "floor_x": lambda: (rich("x", x, "X")[a], rich("x", x, "X")[b]),
        "floor_pair": lambda: (pairs("z", z, "x", x, a), pairs("z", z, "x", x, b)),
        "floor_z": lambda: (rich("z", z, "Z")[a], rich("z", z, "Z")[b]),
    }
    if xt is not None:
        jobs["rich_x"] = lambda: (rich("xt", xt, "X")[a], rich("x", x, "X")[b])
        jobs["pair_simulation"] = lambda: (pairs("z", z, "xt", xt, a), pairs("z", z, "x", x, b))
    if zt is not None:
        jobs["rich_z"] = lambda: (rich("zt", zt, "Z")[a], rich("z", z, "Z")[b])
        jobs["pair_unfolding"] = lambda: (pairs("zt", zt, "x", x, a), pairs("z", z, "x", x, b))
    if xh is not None:
        jobs["refolding"] = lambda: (rich("xh", xh, "X")[a], rich("x", x, "X")[b])
    out: dict[str, dict[str, Any]] = {}
    for key in CLASSIFIER_TESTS:
        if key not in jobs or (tests is not None and key not in tests):
            continue
        gen, truth = jobs[key]()
        res = heldout_auc(gen, truth, max_events=max_events, max_iter=max_iter, seed=seed)
        out[key] = {"description": CLASSIFIER_TESTS[key][0], **res}
    return out

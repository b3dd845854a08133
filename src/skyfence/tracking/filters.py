"""Motion filters for many tracks at once, in the tracker's local plane.

The horizontal state is ``[x, y, vx, vy]`` (metres, m/s). Every method works on arrays
of rows (one per track, or one per track-plot pair when gating), each with its own
time step, so no Python loop runs per track. Two filters share one interface:

- :class:`ConstantVelocity`: a Kalman filter with white-noise acceleration;
- :class:`IMM`: an interacting multiple model filter over several linear models: quiet
  cruise, manoeuvre (the classic CV / high-noise-CV pair for manoeuvring jets),
  coordinated turns either way, and a **hover** model whose velocity decays to zero
  within seconds (a drone that stops and holds its position, a helicopter hovering).
  The hover model keeps a stationary target's velocity estimate at zero, so the track
  does not drift away from it while it is not seen, and its small covariance keeps the
  gate tight around it; when the target moves off, the other models take over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
_H = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])


@dataclass
class FilterState:
    """Per-row filter arrays; the first axis of every array is the row."""

    arrays: dict[str, Array]

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    def take(self, idx: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> FilterState:
        """The rows ``idx`` (indices or a boolean mask)."""
        return FilterState({k: v[idx] for k, v in self.arrays.items()})

    def assign(self, idx: npt.NDArray[np.intp], other: FilterState) -> None:
        """Overwrite rows ``idx`` with the rows of ``other``."""
        for k, v in self.arrays.items():
            v[idx] = other.arrays[k]

    def concat(self, other: FilterState) -> FilterState:
        """These rows followed by those of ``other``."""
        return FilterState({k: np.concatenate([v, other.arrays[k]])
                            for k, v in self.arrays.items()})


class MotionFilter(Protocol):
    """What the tracker needs from a filter (all methods vectorized over rows)."""

    def initiate(self, z: Array, r: Array) -> FilterState:
        """New rows from single plots ``z`` (n, 2) with covariances ``r`` (n, 2, 2)."""
        ...

    def predict(self, state: FilterState, dt: Array) -> FilterState:
        """Rows moved ``dt`` (n,) seconds ahead."""
        ...

    def update(self, state: FilterState, z: Array, r: Array) -> FilterState:
        """Predicted rows corrected by plots ``z`` (row-aligned)."""
        ...

    def update_pda(self, state: FilterState, pair: npt.NDArray[np.intp], z: Array, r: Array,
                   beta: Array, beta0: Array, density: float) -> FilterState:
        """Predicted rows corrected by several plots each, weighted (JPDA)."""
        ...

    def estimate(self, state: FilterState) -> tuple[Array, Array]:
        """Mean (n, 4) and covariance (n, 4, 4) of each row."""
        ...

    def hypotheses(self, state: FilterState) -> tuple[Array, Array]:
        """Means (n, k, 4) and covariances (n, k, 4, 4) a plot may match (for gating:
        one per model of an IMM, so a manoeuvre is not gated out by the quiet model)."""
        ...

    def hypothesis_weights(self, state: FilterState) -> Array:
        """Probability (n, k) of each of :meth:`hypotheses` (an IMM's model
        probabilities; they sum to one per row)."""
        ...


def transition(dt: Array, turn_deg_s: float = 0.0, damping_s: float = np.inf) -> Array:
    """Transition matrices (n, 4, 4): constant velocity, a coordinated turn at a
    known rate (positive: to the right, heading increasing), which is linear too, or,
    with a finite ``damping_s``, a velocity that decays as ``exp(-|dt| / damping_s)``
    (the hover model: the position moves by the decayed velocity's integral).

    >>> f = transition(np.array([2.0]), damping_s=2.0)
    >>> round(float(f[0, 2, 2]), 4), round(float(f[0, 0, 2]), 4)   # e^-1, 2 (1 - e^-1)
    (0.3679, 1.2642)
    """
    f = np.broadcast_to(np.eye(4), (dt.size, 4, 4)).copy()
    if np.isfinite(damping_s):
        decay = np.exp(-np.abs(dt) / damping_s)
        moved = np.sign(dt) * damping_s * (1.0 - decay)
        f[:, 0, 2] = f[:, 1, 3] = moved
        f[:, 2, 2] = f[:, 3, 3] = decay
        return f
    if turn_deg_s == 0.0:
        f[:, 0, 2] = dt
        f[:, 1, 3] = dt
        return f
    w = -np.radians(turn_deg_s)  # counter-clockwise rate in the east-north plane
    s, c = np.sin(w * dt), np.cos(w * dt)
    f[:, 0, 2], f[:, 0, 3] = s / w, -(1 - c) / w
    f[:, 1, 2], f[:, 1, 3] = (1 - c) / w, s / w
    f[:, 2, 2], f[:, 2, 3] = c, -s
    f[:, 3, 2], f[:, 3, 3] = s, c
    return f


def process_noise(dt: Array, q: float) -> Array:
    """White-noise-acceleration covariance (n, 4, 4), spectral density ``q`` m^2/s^3."""
    d = np.abs(dt)
    out = np.zeros((dt.size, 4, 4))
    for i in (0, 1):
        out[:, i, i] = q * d**3 / 3
        out[:, i, i + 2] = out[:, i + 2, i] = q * d**2 / 2 * np.sign(dt)
        out[:, i + 2, i + 2] = q * d
    return out


def kalman_predict(x: Array, p: Array, dt: Array, q: float,
                   turn_deg_s: float = 0.0, damping_s: float = np.inf) -> tuple[Array, Array]:
    """Prediction of means (..., 4) and covariances (..., 4, 4); rows lead."""
    f = transition(dt, turn_deg_s, damping_s)
    xp = np.einsum("nij,n...j->n...i", f, x)
    pp = np.einsum("nij,n...jk,nlk->n...il", f, p, f)
    qq = process_noise(dt, q)
    pp = pp + (qq if p.ndim == 3 else qq[:, None])
    return xp, pp


def innovation(x: Array, p: Array, z: Array, r: Array) -> tuple[Array, Array]:
    """Innovation ``z - Hx`` and its covariance ``HPH' + R`` (rows lead)."""
    return z - x[..., :2], p[..., :2, :2] + r


def kalman_update(x: Array, p: Array, z: Array, r: Array) -> tuple[Array, Array, Array, Array]:
    """Position update; returns the new mean, covariance, innovation and its covariance."""
    nu, s = innovation(x, p, z, r)
    s_inv = np.linalg.inv(s)
    k = p[..., :, :2] @ s_inv  # (.., 4, 2)
    xn = x + np.einsum("...ij,...j->...i", k, nu)
    ikh = np.eye(4) - k @ _H
    pn = ikh @ p @ np.swapaxes(ikh, -1, -2) + k @ r @ np.swapaxes(k, -1, -2)  # Joseph form
    return xn, 0.5 * (pn + np.swapaxes(pn, -1, -2)), nu, s


def mixture_update(x: Array, p: Array, pair: npt.NDArray[np.intp], z: Array, r: Array,
                   beta: Array, beta0: Array) -> tuple[Array, Array, Array]:
    """Probabilistic data association update of predicted rows ``x`` (n, m, 4), ``p``
    (n, m, 4, 4) (``m`` models) by the plots of ``pair`` (k,) -> row, each plot ``z``
    (k, 2), ``r`` (k, 2, 2) weighted ``beta`` (k,), the prediction kept with ``beta0``
    (n,): the Gaussian mixture of the hypotheses reduced to its mean and covariance
    (spread of the means included). Each plot has its own noise, so each hypothesis is
    its own Kalman update. Also returns each pair's innovation density per model (k, m).
    """
    xu, pu, nu, s = kalman_update(x[pair], p[pair], z[:, None], r[:, None])
    d2 = np.einsum("kmi,kmij,kmj->km", nu, np.linalg.inv(s), nu)
    dens = np.exp(-0.5 * d2) / (2 * np.pi * np.sqrt(np.linalg.det(s)))
    xm = beta0[:, None, None] * x
    np.add.at(xm, pair, beta[:, None, None] * xu)
    d0 = x - xm
    pm = beta0[:, None, None, None] * (p + np.einsum("nmi,nmj->nmij", d0, d0))
    dk = xu - xm[pair]
    np.add.at(pm, pair, beta[:, None, None, None] * (pu + np.einsum("kmi,kmj->kmij", dk, dk)))
    return xm, 0.5 * (pm + np.swapaxes(pm, -1, -2)), dens


def _initial(z: Array, r: Array, sigma_v: float) -> tuple[Array, Array]:
    n = len(z)
    x = np.zeros((n, 4))
    x[:, :2] = z
    p = np.zeros((n, 4, 4))
    p[:, :2, :2] = r
    p[:, 2, 2] = p[:, 3, 3] = sigma_v**2
    return x, p


@dataclass(frozen=True)
class ConstantVelocity:
    """Kalman filter, constant velocity with white-noise acceleration.

    ``q`` is the acceleration spectral density (m^2/s^3): 1-10 for airliners, more for
    fighters; ``sigma_v`` the speed uncertainty of a track born from one plot.
    """

    q: float = 5.0
    sigma_v: float = 250.0

    def initiate(self, z: Array, r: Array) -> FilterState:
        x, p = _initial(z, r, self.sigma_v)
        return FilterState({"x": x, "p": p})

    def predict(self, state: FilterState, dt: Array) -> FilterState:
        x, p = kalman_predict(state.arrays["x"], state.arrays["p"], dt, self.q)
        return FilterState({"x": x, "p": p})

    def update(self, state: FilterState, z: Array, r: Array) -> FilterState:
        x, p, _, _ = kalman_update(state.arrays["x"], state.arrays["p"], z, r)
        return FilterState({"x": x, "p": p})

    def update_pda(self, state: FilterState, pair: npt.NDArray[np.intp], z: Array, r: Array,
                   beta: Array, beta0: Array, density: float) -> FilterState:
        """Predicted rows updated by weighted plots (see :func:`mixture_update`)."""
        x, p, _ = mixture_update(state.arrays["x"][:, None], state.arrays["p"][:, None],
                                 pair, z, r, beta, beta0)
        return FilterState({"x": x[:, 0], "p": p[:, 0]})

    def estimate(self, state: FilterState) -> tuple[Array, Array]:
        return state.arrays["x"], state.arrays["p"]

    def hypotheses(self, state: FilterState) -> tuple[Array, Array]:
        return state.arrays["x"][:, None], state.arrays["p"][:, None]

    def hypothesis_weights(self, state: FilterState) -> Array:
        return np.ones((len(state), 1))


@dataclass(frozen=True)
class IMM:
    """Interacting multiple model filter over linear motion models.

    ``qs`` are the process noises of the models, ``turns`` their turn rates (deg/s, 0
    for constant velocity) and ``dampings`` their velocity decay times (s; ``inf`` for
    none). The default is quiet straight flight, a manoeuvring constant-velocity model,
    coordinated turns of 3 deg/s (a rate-one turn) either way, which hold a target
    through a sustained turn where constant-velocity models lag, and a hover model
    (velocity gone within about 3 s, small noise) for drones and helicopters that stop.
    ``switch`` is the probability of leaving a model between two updates.
    """

    qs: tuple[float, ...] = (1.0, 400.0, 20.0, 20.0, 0.5)
    turns: tuple[float, ...] = (0.0, 0.0, 3.0, -3.0, 0.0)
    switch: float = 0.05
    sigma_v: float = 250.0
    dampings: tuple[float, ...] | None = (np.inf, np.inf, np.inf, np.inf, 3.0)

    def __post_init__(self) -> None:
        if len(self.turns) != len(self.qs):
            raise ValueError("IMM needs one turn rate per model")
        if self.dampings is not None and len(self.dampings) != len(self.qs):
            raise ValueError("IMM needs one damping time per model")

    @property
    def damping_times(self) -> tuple[float, ...]:
        """Velocity decay time of each model (``inf``: none)."""
        return self.dampings if self.dampings is not None else (np.inf,) * len(self.qs)

    @property
    def transition_matrix(self) -> Array:
        m = len(self.qs)
        pi = np.full((m, m), self.switch / max(m - 1, 1))
        np.fill_diagonal(pi, 1.0 - self.switch)
        return pi

    def initiate(self, z: Array, r: Array) -> FilterState:
        m = len(self.qs)
        x, p = _initial(z, r, self.sigma_v)
        return FilterState({
            "x": np.repeat(x[:, None], m, axis=1), "p": np.repeat(p[:, None], m, axis=1),
            "mu": np.full((len(z), m), 1.0 / m)})

    def predict(self, state: FilterState, dt: Array) -> FilterState:
        x, p, mu = state.arrays["x"], state.arrays["p"], state.arrays["mu"]
        pi = self.transition_matrix
        c = mu @ pi  # (n, m): predicted model probabilities
        w = mu[:, :, None] * pi[None] / np.maximum(c[:, None, :], 1e-300)  # mu_{i|j}
        x0 = np.einsum("nij,nik->njk", w, x)
        d = x[:, :, None, :] - x0[:, None, :, :]  # (n, i, j, 4)
        p0 = np.einsum("nij,nikl->njkl", w, p) + np.einsum("nij,nijk,nijl->njkl", w, d, d)
        xs, ps = [], []
        models = zip(self.qs, self.turns, self.damping_times, strict=True)
        for j, (q, turn, tau) in enumerate(models):
            xj, pj = kalman_predict(x0[:, j], p0[:, j], dt, q, turn, tau)  # all rows at once
            xs.append(xj)
            ps.append(pj)
        return FilterState({"x": np.stack(xs, 1), "p": np.stack(ps, 1), "mu": c})

    def update(self, state: FilterState, z: Array, r: Array) -> FilterState:
        x, p, c = state.arrays["x"], state.arrays["p"], state.arrays["mu"]
        xn, pn, nu, s = kalman_update(x, p, z[:, None], r[:, None])
        d2 = np.einsum("nmi,nmij,nmj->nm", nu, np.linalg.inv(s), nu)
        loglik = -0.5 * d2 - 0.5 * np.log(np.linalg.det(s))
        loglik -= loglik.max(axis=1, keepdims=True)
        mu = c * np.exp(loglik)
        mu /= mu.sum(axis=1, keepdims=True)
        return FilterState({"x": xn, "p": pn, "mu": mu})

    def update_pda(self, state: FilterState, pair: npt.NDArray[np.intp], z: Array, r: Array,
                   beta: Array, beta0: Array, density: float) -> FilterState:
        """Predicted rows updated by weighted plots, each model on its own (see
        :func:`mixture_update`); a model's probability follows its likelihood of the
        plots, ``(1 - p_d) density + p_d sum_j N_jm`` (the IMM-PDA form, p_d 0.85)."""
        x, p, c = state.arrays["x"], state.arrays["p"], state.arrays["mu"]
        xm, pm, dens = mixture_update(x, p, pair, z, r, beta, beta0)
        lik = np.full(c.shape, 0.15 * density)
        np.add.at(lik, pair, 0.85 * dens)
        mu = c * lik
        total = mu.sum(axis=1, keepdims=True)
        mu = np.where(total > 0, mu / np.where(total > 0, total, 1.0), c)
        return FilterState({"x": xm, "p": pm, "mu": mu})

    def estimate(self, state: FilterState) -> tuple[Array, Array]:
        x, p, mu = state.arrays["x"], state.arrays["p"], state.arrays["mu"]
        xm = np.einsum("nm,nmi->ni", mu, x)
        d = x - xm[:, None]
        pm = np.einsum("nm,nmij->nij", mu, p) + np.einsum("nm,nmi,nmj->nij", mu, d, d)
        return xm, pm

    def hypotheses(self, state: FilterState) -> tuple[Array, Array]:
        return state.arrays["x"], state.arrays["p"]

    def hypothesis_weights(self, state: FilterState) -> Array:
        return state.arrays["mu"]


@dataclass(frozen=True)
class Vertical:
    """A one-dimensional constant-velocity filter for altitude ``[z, vz]``."""

    q: float = 2.0
    sigma_z: float = 30.0
    sigma_vz: float = 20.0

    def step(self, z: Array, p: Array, dt: Array, meas: Array) -> tuple[Array, Array]:
        """Predict rows by ``dt`` then correct with altitudes ``meas`` (n,)."""
        f = np.broadcast_to(np.eye(2), (dt.size, 2, 2)).copy()
        f[:, 0, 1] = dt
        d = np.abs(dt)
        qm = np.empty((dt.size, 2, 2))
        qm[:, 0, 0] = self.q * d**3 / 3
        # the cross term changes sign with dt, as in :func:`process_noise`: backwards, the
        # noise of [z, vz] at t - d is q * integral over u in [0, d] of [-u, 1][-u, 1]'
        qm[:, 0, 1] = qm[:, 1, 0] = self.q * d**2 / 2 * np.sign(dt)
        qm[:, 1, 1] = self.q * d
        zp = np.einsum("nij,nj->ni", f, z)
        pp = f @ p @ np.swapaxes(f, 1, 2) + qm
        s = pp[:, 0, 0] + self.sigma_z**2
        k = pp[:, :, 0] / s[:, None]
        zn = zp + k * (meas - zp[:, 0])[:, None]
        pn = pp - k[:, :, None] * pp[:, None, 0, :]
        return zn, pn

    def initiate(self, meas: Array) -> tuple[Array, Array]:
        """New rows from first altitudes."""
        z = np.column_stack([meas, np.zeros_like(meas)])
        p = np.zeros((meas.size, 2, 2))
        p[:, 0, 0] = self.sigma_z**2
        p[:, 1, 1] = self.sigma_vz**2
        return z, p

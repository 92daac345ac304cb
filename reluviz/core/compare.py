"""A "ghost" run beside the main one, and the dance around the optimum (lecture note 2, Figure 3).

A preset's ``compare`` dict (e.g. ``{"schedule": "inverse", "decay": 0.002}``) describes a second
run that differs from the main one only in those settings. ``ghost_config`` builds it and refuses
overrides of data, model or initialisation settings (``config.RESET_FIELDS``), so both runs see
the same data and start from the same parameters; ``ghost_trainer`` is the one way to build the
ghost's ``Trainer`` (on the main run's dataset). The minibatch order is a function of
``sampling``, ``sample_seed`` and ``batch_size`` only, so unless the overrides change one of those
(``same_batches`` tells) both runs also draw exactly the same minibatches at every step: any
difference between them is the difference in the overridden settings.

``DanceRun`` trains both side by side and records, for each, the distance ||theta_t - theta*||
over the trainable parameters and the excess objective F(theta_t) - F(theta*), where theta* is the
full-batch optimum (``reluviz.core.optimum``; exact for the convex cases, else a local optimum
found from the starting point). Each run is measured against the optimum of its own objective
(they differ only if the overrides change ``ridge`` or ``train``).

``start="optimum"`` starts both runs *at* theta* instead of the initialisation: the iterate then
only shows what the minibatch noise does near the optimum (a constant rate keeps dancing at a
noise floor; a decaying rate settles). This matters for random-feature problems such as the
``dance`` preset, whose least-squares optimum is badly conditioned: from the initialisation,
neither run gets near theta* within any reasonable number of steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reluviz.core.config import ConfigError, TrainConfig, reset_fields_changed
from reluviz.core.data import Dataset, make_dataset
from reluviz.core.optimum import Optimum, distance_to_optimum, excess_objective, optimum
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import Trainer

#: Settings that decide which minibatch each step draws.
BATCH_FIELDS = ("sampling", "sample_seed", "batch_size")


def ghost_config(config: TrainConfig, overrides: dict[str, Any]) -> TrainConfig:
    """``config`` with ``overrides`` applied; data, model and init settings may not change."""
    ghost = config.updated(dict(overrides))
    changed = reset_fields_changed(config, ghost)
    if changed:
        raise ConfigError(f"a ghost run shares the main run's data and initialisation; it cannot change {', '.join(changed)}")
    return ghost


def same_batches(a: TrainConfig, b: TrainConfig) -> bool:
    """True when both configurations draw the same minibatch at every step."""
    return all(getattr(a, f) == getattr(b, f) for f in BATCH_FIELDS)


def ghost_trainer(config: TrainConfig, overrides: dict[str, Any], dataset: Dataset) -> Trainer:
    """The ghost run of ``config`` with ``overrides`` (``ghost_config``: ``ConfigError`` for data,
    model or init overrides), at step 0 on ``dataset``: the main run's data, so the same object."""
    return Trainer(ghost_config(config, overrides), dataset=dataset)


@dataclass(frozen=True, eq=False)
class DanceTrace:
    """Side-by-side record: ``steps`` (T,), and (T, 2) arrays with column 0 the main run and
    column 1 the ghost: ``distance`` ||theta_t - theta*||, ``excess`` F(theta_t) - F(theta*),
    ``lr`` the rate of the update that follows step t."""

    steps: np.ndarray
    distance: np.ndarray
    excess: np.ndarray
    lr: np.ndarray


class DanceRun:
    """The main run and its ghost, trained in lockstep, with their distances to theta*.

    ``start``: ``"init"`` (both from the initialisation) or ``"optimum"`` (both from theta*).
    """

    def __init__(self, config: TrainConfig, overrides: dict[str, Any], dataset: Dataset | None = None,
                 start: str = "init", optimum_budget: float = 0.5):
        if start not in ("init", "optimum"):
            raise ValueError("start must be 'init' or 'optimum'")
        ds = dataset if dataset is not None else make_dataset(config)
        self.main = Trainer(config, dataset=ds)
        self.ghost = ghost_trainer(config, overrides, ds)
        self.same_batches = same_batches(self.main.config, self.ghost.config)
        p0 = self.main.params[0].copy()
        self.optimum_main: Optimum = optimum(self.main.config, ds, p0, time_budget=optimum_budget)
        gc, mc = self.ghost.config, self.main.config
        if (gc.ridge, gc.train) == (mc.ridge, mc.train):
            self.optimum_ghost = self.optimum_main
        else:
            self.optimum_ghost = optimum(gc, ds, p0, time_budget=optimum_budget)
        self.start = start
        if start == "optimum":
            for tr, opt in ((self.main, self.optimum_main), (self.ghost, self.optimum_ghost)):
                snap = tr.snapshot()
                state = np.array(snap.state)
                state[:, : tr.layout.size] = opt.params
                tr.restore(Snapshot.create(0, tr.layout, state, snap.batch, snap.batch_loss, snap.lr, snap.diverged))
        self._steps: list[np.ndarray] = []
        self._lr: list[np.ndarray] = []
        self._dist: list[np.ndarray] = []
        self._excess: list[np.ndarray] = []
        self._last = -1

    @property
    def step(self) -> int:
        return self.main.step

    def advance(self, n_steps: int, every: int = 1) -> None:
        """Train both runs ``n_steps`` steps; record the steps that are multiples of ``every``.

        If the main run diverges, both stop there; if only the ghost does, it stays frozen at its
        last finite state (and its distance stays constant) while the main run goes on.
        """
        size = self.main.layout.size
        trainers = (self.main, self.ghost)
        rec: list[dict[int, tuple[np.ndarray, float]]] = [{}, {}]

        def sink(k: int):
            def record(step, state, batch, batch_loss, lr, diverged):
                if step > self._last:
                    rec[k][int(step)] = (state[0, :size].copy(), float(lr[0]))
            return record

        done = self.main.run(n_steps, on_step=sink(0), every=every)
        self.ghost.run(done, on_step=sink(1), every=every)
        for k, tr in enumerate(trainers):  # the state after the last update, if on the grid
            if tr.step % every == 0 and tr.step > self._last:
                rec[k][tr.step] = (tr.params[0].copy(), float(tr.lr_at(tr.step)[0]))
        steps = sorted(rec[0])
        if not steps:
            return
        frozen = (self.ghost.params[0].copy(), 0.0)
        ghost_rows = [rec[1].get(t, frozen) for t in steps]
        pm = np.asarray([rec[0][t][0] for t in steps])
        pg = np.asarray([r[0] for r in ghost_rows])
        ds = self.main.dataset
        self._steps.append(np.asarray(steps, dtype=np.int64))
        self._dist.append(np.stack([distance_to_optimum(pm, self.optimum_main),
                                    distance_to_optimum(pg, self.optimum_ghost)], axis=1))
        self._excess.append(np.stack([excess_objective(self.main.config, ds, pm, self.optimum_main),
                                      excess_objective(self.ghost.config, ds, pg, self.optimum_ghost)], axis=1))
        self._lr.append(np.array([[rec[0][t][1], r[1]] for t, r in zip(steps, ghost_rows)]))
        self._last = steps[-1]

    def trace(self) -> DanceTrace:
        """Everything recorded so far."""
        if not self._steps:
            empty = np.empty((0, 2))
            return DanceTrace(np.empty(0, dtype=np.int64), empty, empty.copy(), empty.copy())
        return DanceTrace(np.concatenate(self._steps), np.concatenate(self._dist), np.concatenate(self._excess),
                          np.concatenate(self._lr))


def dance_runs(config: TrainConfig, overrides: dict[str, Any], dataset: Dataset | None = None,
               start: str = "init") -> DanceRun:
    """A ``DanceRun`` for ``config`` and a ghost with ``overrides`` (e.g. a preset's ``compare``)."""
    return DanceRun(config, overrides, dataset=dataset, start=start)


def ghost_text(overrides: dict[str, Any]) -> str:
    """The ghost run's name, the settings it differs by: ``"ghost: k=v, k2=v2"`` (plain text), in
    the settings' order (a run file's sorted keys and a preset's order name the same ghost alike)."""
    order = {name: i for i, name in enumerate(TrainConfig.field_names())}
    keys = sorted(overrides, key=lambda k: order.get(k, len(order)))
    return "ghost: " + ", ".join(f"{k}={overrides[k]}" for k in keys)

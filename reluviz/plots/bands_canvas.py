"""``BandsCanvas`` and ``SweepCanvas``: the seed-band view's drawing, shared by the app and exports.

``BandsCanvas``: the median and the 25-75% band over seeds of the train loss (left) and the
validation loss (right) against step, one colour per optimizer (and a dashed purple band for the
ghost run's settings when the run has a ghost: the preset's ``compare``). The legend is a row above
both plots (inside a plot it covered the end of the sgd curve). ``show_bands(result)`` draws a
``reluviz.core.bands.BandsResult``; an export (``prepare_export``) computes the bands headless for
the frame's settings (``bands_job``: the computation the app's "Run bands" worker runs) and its
frames reveal them up to each frame's step with a cursor there (``show_frame``).

``SweepCanvas``: the notebook sweep, one column per width (train loss above validation loss),
with one legend row above the grid.
"""

from __future__ import annotations

import numpy as np

from reluviz.core.bands import (BAND_OPTIMIZERS, BAND_POINTS, SWEEP_WIDTHS, BandsResult, SweepResult, bands_task,
                                run_seeds)
from reluviz.core.compare import ghost_config, ghost_text
from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.frame import Frame
from reluviz.plots.canvas import ViewCanvas
from reluviz.plots.lecture_bands import GHOST_BAND, BandsPlot

SAMPLE_WORDS = {"train": "train", "val": "validation"}
EXPORT_SEEDS = 30  # seeds per band in an export (the app's default too)


def bands_job(config: TrainConfig, optimizers: list[str], seeds: int, steps: int, compare: dict | None = None):
    """The seed-band computation as a worker task ``task(progress, should_stop, partial) -> BandsResult``:
    ``reluviz.core.bands.bands_task`` for ``optimizers``, then, when ``compare`` names a ghost, the
    same seeds of the ghost's settings (``ghost_config``) under the key ``"ghost"``."""
    base = bands_task(config, list(optimizers), seeds, steps)
    if not compare:
        return base
    try:
        ghost_cfg = ghost_config(config, dict(compare))
    except ConfigError:  # (a ghost that would change the data has no band)
        return base
    n = len(optimizers) + 1

    def task(progress, should_stop, partial):
        res = base(lambda d, t: progress(d, n * steps), should_stop, partial)
        if not res.complete or should_stop():
            return res
        partial(res)
        ghost = run_seeds(ghost_cfg, seeds, steps=steps, every=max(1, steps // BAND_POINTS),
                          should_stop=should_stop, progress=lambda d, t: progress((n - 1) * steps + d, n * steps))
        return BandsResult({**res.runs, GHOST_BAND: ghost}, ghost.complete)

    return task


def band_label(key: str, runs, compare: dict | None = None) -> str:
    """The legend's words for one band: the optimizer (or the ghost's settings) and its diverged runs."""
    div = int(runs.diverged.sum())
    name = ghost_text(compare) if key == GHOST_BAND and compare else key
    return name + (f" ({div} of {runs.runs} diverged)" if div else "")


class BandsCanvas(ViewCanvas):
    """Train and validation bands side by side, their legend in a row above them."""

    def __init__(self, parent=None):
        super().__init__(parent, columns=2)
        self.legend = self.add_legend_row(1, 0, colspan=2)
        self.train_plot = BandsPlot(self.grid.addPlot(row=2, col=0), "train loss (full training set)")
        self.val_plot = BandsPlot(self.grid.addPlot(row=2, col=1), "validation loss (held-out points)")
        self.val_plot.plot.setXLink(self.train_plot.plot)
        self.result: BandsResult | None = None
        self.compare: dict = {}
        self.seeds = EXPORT_SEEDS
        self._prepared_for = None
        self._y_held: dict[str, tuple[float, float]] = {}

    @property
    def plots(self) -> tuple[BandsPlot, BandsPlot]:
        return self.train_plot, self.val_plot

    def clear_bands(self) -> None:
        """No bands drawn. (Not ``clear``: a ``GraphicsLayoutWidget`` instance forwards that name to its
        layout, which would remove the plots.)"""
        for plot in self.plots:
            plot.clear()
        self.legend.set_entries([])

    def show_empty(self, text: str, steps: int) -> None:
        self.train_plot.show_empty(text, steps)
        self.val_plot.show_empty("", steps)
        self.legend.set_entries([])

    def show_bands(self, result: BandsResult, upto: float | None = None, x_end: float | None = None,
                   compare: dict | None = None) -> None:
        """Draw ``result`` (only steps <= ``upto`` when given, with a cursor there and the y range of
        the whole bands; ``x_end``: the step axis's end); the legend lists the bands drawn."""
        compare = self.compare if compare is None else compare
        entries = []
        for key, runs in result.runs.items():
            for plot, which in ((self.train_plot, "train"), (self.val_plot, "val")):
                b = runs.band(which)
                plot.set_band(key, b.steps, b.q25, b.median, b.q75, upto=upto)
            entries.append((self.train_plot.median_item(key), band_label(key, runs, compare)))
        for plot in self.plots:
            for key in list(plot.shown):
                if key not in result.runs:
                    plot.hide(key)
            plot.set_cursor(upto)
        self.legend.set_entries(entries)
        if upto is None:
            for plot in self.plots:
                plot.fit_view(x_end)
        else:  # an animation: still axes, the whole bands' y range from the first frame on
            end = x_end if x_end is not None else max(float(r.steps[-1]) for r in result.runs.values())
            for plot, which in ((self.train_plot, "train"), (self.val_plot, "val")):
                plot.plot.setXRange(0.0, max(end, 1.0), padding=0.02)
                lo, hi = _log_span(result, which)
                if np.isfinite(lo):
                    plot.yr.reset()
                    plot.fit_y(lo, hi)

    # ------------------------------------------------------------------ export
    def compute_export(self, frame: Frame, progress=None, should_stop=None):
        """Seed bands of the frame's settings to its step, each optimizer (and the ghost's settings when
        the run has one) with ``self.seeds`` seeds, headless (NumPy only): what "Run bands" computes
        in the app. Returns (key, result, compare)."""
        cfg = frame.config
        steps = max(int(frame.step), 10)
        compare = dict(frame.compare) if frame.compare else {}
        key = (cfg.to_dict().__repr__(), steps, repr(sorted(compare.items())), self.seeds)
        if key == self._prepared_for and self.result is not None:
            return key, self.result, compare
        task = bands_job(cfg, list(BAND_OPTIMIZERS), self.seeds, steps, compare)
        return key, task(progress or (lambda d, t: None), should_stop or (lambda: False), lambda _r: None), compare

    def apply_export(self, computed) -> str:
        key, res, compare = computed
        self.result, self.compare, self._prepared_for = res, compare, key
        if not res.complete:
            return "seed bands cancelled"
        steps = key[1]
        finals = "; ".join(f"{k}: median validation MSE {r.band('val').median[-1]:.3g}" for k, r in res.runs.items())
        return f"seed bands: {self.seeds} seeds × {steps:,} steps; {finals}"

    def show_frame(self, frame: Frame) -> None:
        """The bands computed by ``prepare_export`` up to the frame's step (the axis to their last step)."""
        res = self.result
        if res is None or not res.runs:
            self.show_empty("No seed bands computed", max(int(frame.step), 1))
            self.set_caption("")
            return
        last = max(float(r.steps[-1]) for r in res.runs.values())
        self.show_bands(res, upto=frame.step, x_end=last)
        self.set_caption(f"{self.seeds} seeds of these settings per optimizer, the same seeds for each: "
                         "line = median, band = 25th–75th percentile")


def _log_span(result: BandsResult, which: str) -> tuple[float, float]:
    """log10 of the smallest and largest positive quartile of every band of ``which``."""
    vals = []
    for runs in result.runs.values():
        b = runs.band(which)
        v = np.concatenate([b.q25, b.q75, b.median])
        v = v[np.isfinite(v) & (v > 0)]
        if len(v):
            vals.append(v)
    if not vals:
        return float("nan"), float("nan")
    v = np.concatenate(vals)
    return float(np.log10(v.min())), float(np.log10(v.max()))


class SweepCanvas(ViewCanvas):
    """The notebook sweep: a column per width, train loss above validation loss, one legend row."""

    def __init__(self, parent=None, widths=SWEEP_WIDTHS):
        super().__init__(parent, columns=len(widths))
        self.legend = self.add_legend_row(1, 0, colspan=len(widths))
        self.plots: dict[tuple[int, str], BandsPlot] = {}
        for c, width in enumerate(widths):
            for r, which in enumerate(("train", "val")):
                p = self.grid.addPlot(row=r + 2, col=c)
                self.plots[(width, which)] = BandsPlot(p, f"width {width}: {SAMPLE_WORDS[which]} loss",
                                                       left="MSE (log)")

    def clear_bands(self) -> None:
        for p in self.plots.values():
            p.clear()
        self.legend.set_entries([])

    def show_sweep(self, res: SweepResult) -> None:
        first = None
        for (width, opt), runs in res.runs.items():
            for which in ("train", "val"):
                plot = self.plots.get((width, which))
                if plot is None:
                    continue
                b = runs.band(which)
                plot.set_band(opt, b.steps, b.q25, b.median, b.q75)
                first = first or plot
        for p in self.plots.values():
            p.fit_view()
        drawn = [o for o in BAND_OPTIMIZERS if any(k[1] == o for k in res.runs)]
        if first is not None:
            self.legend.set_entries([(first.median_item(o), o) for o in drawn])

    def show_frame(self, frame: Frame) -> None:  # (the sweep is not tied to a run's frames)
        pass


__all__ = ["BandsCanvas", "SweepCanvas", "bands_job", "band_label", "EXPORT_SEEDS"]

"""``DanceCanvas``: the dance view's drawing (lecture note 2, Figure 3), shared by the app and exports.

Top left, the landscape, by model:

* ``1d`` (constant, linear): the loss parabola with theta*, the minibatch's own parabola, the
  first-order Taylor line at the current theta and the full-batch step along it, and both runs'
  recent iterates joined in order (GD's zigzag across theta*, SGD's random walk).
* ``plane`` (affine, y = a x + b): the exact loss over the whole (a, b) plane; ``output`` (a relu
  net training only v, c): the loss over two output weights through theta* (the other weights at
  theta*, the iterates' shadow on that plane). Both: theta* and each run's cloud of recent iterates.
* ``full`` / ``big`` (the hidden layer trains / too wide): no closed-form theta*; a sentence, and
  distances once a local optimum is given (``set_local_optimum``).

Top right: ||theta_t - theta*|| and the excess loss of the run over its recorded past, and the
ghost's distance. Bottom (``with_dance``): the side-by-side dance (``reluviz.core.dance``), both
runs' distance and excess against step, revealed up to a step in an animation. Everything drawn is
computed by ``reluviz.core`` from the ``Frame`` (and the dance's result) it is handed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.core.compare import ghost_config
from reluviz.core.config import ConfigError
from reluviz.core.frame import Frame, TrailSpec
from reluviz.core.history_chain import thin_rows
from reluviz.core.landscape import OutputQuadratic, default_output_axes, loss_curve, output_loss_grid, project_trail
from reluviz.core.optimum import (Optimum, distance_to_optimum, excess_objective, objective, objective_gradient,
                                  optimum, optimum_too_big)
from reluviz.core.step_cache import StepCache
from reluviz.plots import theme
from reluviz.plots.canvas import ViewCanvas
from reluviz.plots.dance_row import SideBySideRow, export_dance
from reluviz.plots.lecture_common import GHOST_RUN, MAIN_RUN
from reluviz.plots.lecture_dance import ContourPlot, DistancePlot, LossCurvePlot

TRAIL_ROWS = 40          # recent iterates drawn on the 1-D landscape (GD's zigzag, SGD's walk)
CLOUD_ROWS = 400         # recent iterates drawn as a cloud on a plane
CONTOUR_POINTS = 81      # grid of the 2-D landscape (per axis)
TRAIL = TrailSpec(CLOUD_ROWS, 200, ghost=True)

PLACEHOLDER = ("No closed-form θ* when the hidden layer trains: the loss over all the weights is not a single "
               "bowl. “Find local optimum from here” runs a full-batch descent from the displayed point; the "
               "distances at right are then measured to that local optimum.")


PLACEHOLDER_EXPORT = ("No closed-form θ* when the hidden layer trains: the loss over all the weights is not a single "
                      "bowl, so there is no one θ* to draw or measure distances to.")


def dance_mode(config, layout, n_points: int) -> str:
    """What the landscape draws: ``1d``, ``plane``, ``output``, ``full`` or ``big`` (see the module notes)."""
    if layout.model in ("constant", "linear"):
        return "1d"
    if layout.model == "affine":
        return "plane"
    if config.train != "output":
        return "full"
    return "big" if optimum_too_big(layout, n_points, config.train) else "output"


class DanceCanvas(ViewCanvas):
    """The landscape and distances of a frame; with ``with_dance`` the side-by-side dance below."""

    def __init__(self, parent=None, with_dance: bool = True):
        super().__init__(parent, columns=2)
        g = self.grid
        self.land_legend = self.add_legend_row(1, 0)
        self.dist_legend = self.add_legend_row(1, 1)
        self.land_item = pg.PlotItem()
        self.contour_item = pg.PlotItem()
        self.dist_item = pg.PlotItem()
        g.addItem(self.land_item, row=2, col=0)
        g.addItem(self.dist_item, row=2, col=1, rowspan=1)
        self.curve_plot = LossCurvePlot(self.land_item, self.land_legend)
        self.contour_plot = ContourPlot(self.contour_item, self.land_legend)
        self.distance_plot = DistancePlot(self.dist_item, self.dist_legend)
        self.placeholder = pg.TextItem(PLACEHOLDER, color=theme.FOREGROUND, anchor=(0.5, 0.5))
        self.placeholder.setFont(_qfont(14))
        self.placeholder.setTextWidth(430)
        self.land_item.addItem(self.placeholder, ignoreBounds=True)
        self.placeholder.hide()
        self.land_item.vb.sigResized.connect(self._fit_placeholder)
        g.layout.setColumnStretchFactor(0, 3)
        g.layout.setColumnStretchFactor(1, 2)
        self._land_shown = self.land_item
        self.with_dance = with_dance
        self.for_export = False   # set by prepare_export: no buttons to point to
        self.export_dance = None  # the dance an export computed (``prepare_export``), revealed frame by frame
        if with_dance:
            self.dance_row = SideBySideRow(self)
            # (the row's parts, by the names the view and the tests use)
            self.dance_legend, self.dance_note = self.dance_row.legend, self.dance_row.note
            self.dance_distance, self.dance_excess = self.dance_row.distance, self.dance_row.excess
            g.layout.setRowStretchFactor(2, 5)
        self.mode = ""
        self.opt: Optimum | None = None
        self.ghost_opt: Optimum | None = None
        self.quad: OutputQuadratic | None = None
        self.too_big = ""
        self.local: tuple[Optimum, int, tuple] | None = None
        self.axes_chosen: tuple[int, int] | None = None
        self.new_run = False
        self._ctx_key = None
        self._dataset = None
        self.frame: Frame | None = None
        self._cache = StepCache()
        self._ghost_cache = StepCache()
        self._hw_held: tuple[float, float] | None = None

    # ------------------------------------------------------------------ context (cached per data/config)
    def _context(self, frame: Frame) -> None:
        cfg, dataset, snapshot = frame.config, frame.dataset, frame.snapshot
        layout = snapshot.layout
        mode = dance_mode(cfg, layout, dataset.n)
        too_big = optimum_too_big(layout, dataset.n, cfg.train)
        params = np.asarray(snapshot.params[0])
        hidden = params[: layout.output_start].tobytes() if mode == "output" else b""
        key = (frame.run_id, id(dataset), mode, layout, cfg.ridge, hidden, tuple(sorted(frame.compare.items())))
        self.new_run = self._ctx_key is None or self._ctx_key[:2] != key[:2]
        if key == self._ctx_key:
            return
        self._ctx_key = key
        self._dataset = dataset
        self.mode = mode
        self._cache.clear()
        self._ghost_cache.clear()
        self._hw_held = None
        self.curve_plot.reset()
        self.distance_plot.reset()
        if self.new_run:
            self.local = None
        self.too_big = too_big
        if mode in ("full", "big"):
            self.opt = self.local[0] if self.local and mode == "full" else None
            self.quad = None
        else:
            self.opt = optimum(cfg, dataset, params)
            self.quad = (OutputQuadratic(layout, params, dataset.x_train, dataset.y_train, cfg.ridge)
                         if mode in ("output", "plane") else None)
        self.ghost_opt = self.opt
        if self.opt is not None and frame.compare and mode != "full":
            try:
                gcfg = ghost_config(cfg, dict(frame.compare))
            except ConfigError:
                gcfg = cfg
            if (gcfg.ridge, gcfg.train) != (cfg.ridge, cfg.train):
                self.ghost_opt = optimum(gcfg, dataset, params)
        if mode in ("output", "plane") and (self.axes_chosen is None or not self._axes_valid(self.axes_chosen)):
            self.axes_chosen = default_output_axes(self.quad)
        self._set_landscape(mode)

    def _axes_valid(self, axes) -> bool:
        sl = self.quad.out
        return all(sl.start <= a < sl.stop for a in axes) and axes[0] != axes[1]

    def output_axes(self) -> tuple[int, int] | None:
        """Flat indices of the two parameters on the contour plot (None if not shown)."""
        if self.mode not in ("output", "plane") or self.quad is None:
            return None
        return self.axes_chosen

    def set_axes(self, a: int, b: int) -> None:
        """Choose the plane's two output weights (flat indices); the same twice moves the second on."""
        if self.quad is None:
            return
        if a == b:
            sl = self.quad.out
            b = sl.start + (b - sl.start + 1) % (sl.stop - sl.start)
        self.axes_chosen = (a, b)
        self._hw_held = None
        self.contour_plot._key = None
        if self.frame is not None and self.mode in ("output", "plane"):
            self._draw(self.frame)

    def set_local_optimum(self, opt: Optimum, step: int) -> None:
        """Measure distances to ``opt``, a local optimum found from ``step`` (the full network)."""
        self.local = (opt, step, self._ctx_key)
        self.opt = opt
        self._cache.clear()
        self.distance_plot.reset()
        if self.frame is not None:
            self._draw(self.frame)

    def _set_landscape(self, mode: str) -> None:
        want = self.contour_item if mode in ("output", "plane") else self.land_item
        if want is not self._land_shown:
            self.grid.removeItem(self._land_shown)
            self.grid.addItem(want, row=2, col=0)
            self._land_shown = want
        self.contour_plot.shadow = mode == "output"
        full = mode in ("full", "big")
        self.placeholder.setText(self.too_big if mode == "big" else PLACEHOLDER_EXPORT if self.for_export
                                 else PLACEHOLDER)
        if full:
            self.curve_plot.clear()
            self.land_item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.placeholder.setPos(0.5, 0.5)
            self.land_legend.set_entries([])
        self.placeholder.setVisible(full)
        for item in (self.curve_plot.star_line, self.curve_plot.star_label):
            item.setVisible(not full)
        for axis in ("left", "bottom"):
            self.land_item.showAxis(axis, not full)
        self.land_item.showGrid(x=not full, y=not full, alpha=0.18)

    def _fit_placeholder(self) -> None:
        """The sentence in place of the landscape wraps to the plot's width and takes a smaller
        font where it would be taller than the plot."""
        vb = self.land_item.vb
        self.placeholder.setTextWidth(max(120.0, min(430.0, vb.width() - 16)))
        for points in range(14, 8, -1):
            self.placeholder.setFont(_qfont(points))
            if self.placeholder.textItem.boundingRect().height() <= vb.height() - 8:
                break

    # ------------------------------------------------------------------ drawing a frame
    def trail_spec(self, config) -> TrailSpec:
        """Recent iterates for the landscape (the ghost's too), and a thinned past for the distances."""
        return TRAIL

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        self._context(frame)
        self._draw(frame)
        if self.export_dance is not None:
            self.show_dance(self.export_dance, upto=frame.snapshot.step)

    def compute_export(self, frame: Frame, progress=None, should_stop=None):
        """Run the side-by-side dance an export reveals (headless, NumPy only): what "Run dance"
        runs (``reluviz.core.dance.dance_task``, the ghost with the frame's ``compare`` settings;
        both runs from theta*, or from the initialisation for a full-batch run, which would stand
        still at theta*) for as many steps as the export's last ``frame``. Returns (the dance or
        None, why not): without a ghost, or when the dance cannot run (no theta*, ghost settings
        refused), the export draws the landscape and distances only."""
        if not self.with_dance:
            return None, ""
        return export_dance(frame, progress, should_stop)

    def apply_export(self, computed) -> str:
        """The dance to reveal frame by frame (the bottom row is dropped without one; the note
        says why)."""
        self.for_export = True
        for item in (self.distance_plot.distance, self.distance_plot.excess, self.distance_plot.ghost_distance):
            item.opts["antialias"] = item.curve.opts["antialias"] = True  # (a frame is painted once: smooth lines)
        self._ctx_key = None  # (the placeholder's words change)
        self.export_dance, why = computed if computed is not None else (None, "")
        if not self.with_dance:
            return ""
        self.dance_row.set_shown(self.export_dance is not None)
        return "" if not why else f"dance view: side-by-side dance not drawn ({why})"

    def resizeEvent(self, ev):  # noqa: N802 (Qt API)
        self._fix_columns()
        super().resizeEvent(ev)

    def _fix_columns(self) -> None:
        """The landscape column 3/5 of the width, the distances 2/5, at every size (left to the
        items' size hints, a wide legend or axis would take the room of the other column)."""
        if getattr(self, "grid", None) is None or getattr(self, "closed", False):
            return  # (a resize during construction, or while closing: the scene is cleared)
        g = self.grid.layout
        left, _top, right, _bottom = g.getContentsMargins()
        room = max(self.width() - left - right - g.horizontalSpacing() - 4, 100)
        g.setColumnFixedWidth(0, int(0.6 * room))
        g.setColumnFixedWidth(1, room - int(0.6 * room))

    def set_scale(self, scale: float) -> None:
        super().set_scale(scale)
        if self.with_dance:
            self.dance_row.set_scale(self.scale)

    def _values(self, rows: np.ndarray, opt: Optimum, ghost: bool = False) -> np.ndarray:
        """(K, 2): distance to theta* and excess loss of parameter rows (through the core)."""
        cfg, ds = self.frame.config, self._dataset
        dist = distance_to_optimum(rows, opt)
        if self.quad is not None and not ghost and opt is self.opt:
            try:
                exc = self.quad.value(rows) - opt.objective
            except ValueError:  # rows with other hidden weights (train setting changed mid-run)
                exc = excess_objective(cfg, ds, rows, opt)
        else:
            exc = excess_objective(cfg, ds, rows, opt)
        return np.stack([dist, exc], axis=1)

    def _draw(self, frame: Frame) -> None:
        mode, snap = self.mode, frame.snapshot
        trail = frame.trail
        steps, rows = trail.steps, trail.params
        if mode in ("full", "big") and (self.local is None or mode == "big"):
            steps, rows = steps[-TRAIL_ROWS:], rows[-TRAIL_ROWS:]  # no theta*: only the recent iterates
        elif mode == "full":  # each row costs a pass over the data (the excess loss): fewer of them
            keep = thin_rows(steps, snap.step, 60, 150)
            steps, rows = steps[keep], rows[keep]
        step = snap.step
        prefix = "" if self._header else f"<b>step {step:,}</b>: "  # (an export's header says the step)
        cur = np.asarray(snap.params[0])
        gtrail = frame.ghost_trail
        if self.opt is not None and len(steps):
            keep = even_rows(steps)
            vals = self._cache.get(steps[keep], rows[keep], lambda r: self._values(r, self.opt))
            gsteps = gd = None
            if frame.ghost is not None and len(gtrail) and mode != "full":
                gk = even_rows(gtrail.steps)
                gsteps = gtrail.steps[gk]
                gd = self._ghost_cache.get(gsteps, gtrail.params[gk],
                                           lambda r: self._values(r, self.ghost_opt, ghost=True))[:, 0]
            self.distance_plot.show(steps[keep], vals[:, 0], vals[:, 1], step, gsteps, gd)
            d_now = float(distance_to_optimum(cur, self.opt))
            e_now = float(self._values(cur[None, :], self.opt)[0, 1])
            caption = f"{prefix}‖θ − θ*‖ = {d_now:.3g},  L(θ) − L(θ*) = {e_now:.3g}"
            label = self.opt.label.replace("theta*", "θ*").replace("lambda", "λ")
            if mode == "full" and self.local is not None:
                label += f", from step {self.local[1]:,}"
            if mode != "plane":  # (the plane's words name theta*)
                caption += f"  ·  {label}"
        elif mode == "big" or (mode == "full" and self.too_big):
            self.distance_plot.message("θ* is too costly to find\nfor a network this size", step)
            caption = prefix + ("output layer of a wide network" if mode == "big" else
                                "full network (hidden layer trains)")
        else:
            self.distance_plot.message("no θ* to measure distances to" if self.for_export else
                                       "θ* not known yet: press “Find local optimum from here”", step)
            caption = f"{prefix}full network (hidden layer trains)"
        if mode == "1d":
            caption += self._draw_curve(frame, rows)
        elif mode in ("output", "plane"):
            caption += self._draw_contour(frame, rows)
        self.set_caption(caption)

    def _ghost_recent(self, frame: Frame, k: int) -> np.ndarray | None:
        if frame.ghost is None:
            return None
        g = frame.ghost_trail
        return g.params[-k:] if len(g) else np.asarray(frame.ghost.params[:1])

    def _draw_curve(self, frame: Frame, rows: np.ndarray) -> str:
        """The parabola, the Taylor line and the iterates; returns words for the caption."""
        cfg, ds, snap = frame.config, self._dataset, frame.snapshot
        layout = snap.layout
        x, y, lam = ds.x_train, ds.y_train, cfg.ridge
        theta = float(snap.params[0, 0])
        batch = np.asarray(snap.batch[0])
        full_batch = cfg.batch_size == 0 or len(batch) >= ds.n and len(np.unique(batch)) == ds.n
        if full_batch:
            batch = None
        recent = rows[-TRAIL_ROWS:]
        ghost_rows = self._ghost_recent(frame, TRAIL_ROWS)
        ghost_theta = float(frame.ghost.params[0, 0]) if frame.ghost is not None else None
        around = [theta] + [float(t) for t in recent[:, 0]]
        if ghost_rows is not None:
            around += [float(t) for t in ghost_rows[:, 0]]
        probe = loss_curve(layout, x, y, batch=batch, around=around, points=3, ridge=lam)
        # the window: every iterate shown and the minibatch's minimum, zoomed in as they close in on
        # theta* (down to a twentieth of the width over which the loss doubles: GD's zigzag stays visible)
        t_star = probe.theta_star
        reach = [abs(t - t_star) for t in around]
        if probe.batch_theta_star is not None:
            reach.append(abs(probe.batch_theta_star - t_star))
        wide = np.sqrt(max(probe.loss_star, 1e-12) / probe.curvature) if probe.curvature > 0 else 1.0
        half = 1.25 * max(reach + [0.05 * wide, 1e-6])
        x0, x1 = self.curve_plot.xr.update(t_star - half, t_star + half)
        curve = loss_curve(layout, x, y, batch=batch, theta_range=(x0, x1), points=301, ridge=lam)
        f_now = float(objective(layout, snap.params[0], x, y, lam))
        trail_f = np.asarray(objective(layout, recent, x, y, lam)) if len(recent) else np.empty(0)
        name = "θ (the constant prediction)" if layout.model == "constant" else "θ (the slope of y = θx)"
        self.curve_plot.set_param_label(name, lam)
        ghost = ghost_trail = None
        if ghost_theta is not None:
            ghost = (ghost_theta, float(objective(layout, frame.ghost.params[0], x, y, lam)))
            ghost_trail = (ghost_rows[:, 0], np.asarray(objective(layout, ghost_rows, x, y, lam)))
        slope = float(objective_gradient(layout, np.asarray(snap.params[0]), x, y, lam)[0])
        lr = float(snap.lr[0])
        self.curve_plot.show(curve.theta, curve.loss, curve.theta_star, curve.loss_star, curve.batch_loss,
                             curve.batch_theta_star, (theta, f_now), recent[:, 0] if len(recent) else np.empty(0),
                             trail_f, (t_star - half, t_star + half), ghost=ghost, ghost_trail=ghost_trail,
                             taylor=(slope, -lr * slope) if lr > 0 else None, full_batch=full_batch)
        words = f"<br>θ = {theta:.4g},  θ* = {curve.theta_star:.4g}"
        if batch is not None and curve.batch_theta_star is not None:
            words += f";  this minibatch pulls toward {curve.batch_theta_star:.3g}"
        curvature = 2.0 * curve.curvature  # L'' of L = L* + a (theta - theta*)^2
        if lr > 0 and curvature > 0:
            words += f";  lr {lr:.3g} against 2/curvature = {2.0 / curvature:.3g}"
            if full_batch:
                factor = f"{1.0 - lr * curvature:+.3g}".replace("-", "−")
                words += f": θ − θ* is multiplied by 1 − lr·L″ = {factor} each step"
        return words

    def _draw_contour(self, frame: Frame, rows: np.ndarray) -> str:
        axes = self.output_axes()
        quad, opt, snap = self.quad, self.opt, frame.snapshot
        if axes is None or quad is None or opt is None:
            return ""
        recent = rows[-CLOUD_ROWS:]
        cur = np.asarray(snap.params[0])
        ghost_rows = self._ghost_recent(frame, CLOUD_ROWS)
        pts = np.vstack([recent, cur[None, :]]) if len(recent) else cur[None, :]
        both = pts if ghost_rows is None else np.vstack([pts, ghost_rows, np.asarray(frame.ghost.params[:1])])
        need = _half_width(quad, opt, axes, both)
        held = self._hw_held
        if held is None or any(n > h or n < 0.3 * h for n, h in zip(need, held)):
            held = (need[0] * 1.15, need[1] * 1.15)
            self._hw_held = held
        key = (axes, held, id(opt))
        if self.contour_plot.grid_key() != key:
            grid = output_loss_grid(quad, opt.params, axes, points=CONTOUR_POINTS, half_width=held)
            self.contour_plot.set_grid(key, grid.a, grid.b, grid.loss - opt.objective,
                                       (opt.params[axes[0]], opt.params[axes[1]]), grid.names)
        trail = project_trail(pts, axes)
        gtrail = gcur = None
        if ghost_rows is not None:
            gtrail = project_trail(ghost_rows, axes)
            gp = project_trail(np.asarray(frame.ghost.params[:1]), axes)[0]
            gcur = (float(gp[0]), float(gp[1]))
        self.contour_plot.star_label = "θ* (least squares)"
        self.contour_plot.set_iterates(trail[:-1], (float(trail[-1, 0]), float(trail[-1, 1])),
                                       ghost_trail=gtrail, ghost=gcur)
        if self.mode == "plane":
            a, b = cur[axes[0]], cur[axes[1]]
            sign = "+" if b >= 0 else "−"
            sstar = "+" if opt.params[1] >= 0 else "−"
            return (f"  ·  θ: y = {a:.3g} x {sign} {abs(b):.3g},  θ*: y = {opt.params[0]:.3g} x {sstar} "
                    f"{abs(opt.params[1]):.3g} (least squares)")
        names = self.contour_plot.plot.getAxis("bottom").labelText, self.contour_plot.plot.getAxis("left").labelText
        return f"<br>a plane through θ* over {names[0]} and {names[1]}; the other weights held at θ*"

    # ------------------------------------------------------------------ the side-by-side dance
    def show_dance(self, result, upto: int | None = None, note: str = "") -> None:
        """Draw a ``reluviz.core.dance.DanceResult`` (None: nothing yet); with ``upto`` only the
        steps up to it, on an axis to the dance's last step (an animation reveals it)."""
        if self.with_dance:
            self.dance_row.show(result, upto, note)


def even_rows(steps: np.ndarray) -> np.ndarray:
    """Indices of a trail's ``steps`` at one spacing: its recent rows (every step) thinned to the
    stride of its older ones, the last row kept. (A curve of every step at the end and every 32nd
    before would draw a dense block of noise at its end that is not in the run.)"""
    steps = np.asarray(steps)
    if len(steps) < 3:
        return np.arange(len(steps))
    stride = max(int(steps[1] - steps[0]), 1)
    keep = np.flatnonzero(steps % stride == 0)
    return keep if keep[-1] == len(steps) - 1 else np.r_[keep, len(steps) - 1]


def _half_width(quad: OutputQuadratic, opt: Optimum, axes: tuple[int, int], pts: np.ndarray) -> tuple[float, float]:
    """Half widths of the plane shown around theta*: room for every point of ``pts`` (the iterates,
    (K, P)), and at least a fifth of the distance over which the loss doubles along each axis (so a
    settled run still shows its bowl)."""
    f0 = max(float(opt.objective), 1e-12)
    out = []
    for axis in axes:
        curv = quad.curvature(axis - quad.out.start)
        floor = 0.2 * (np.sqrt(f0 / curv) if curv > 0 else 1.0)
        reach = float(np.max(np.abs(pts[:, axis] - opt.params[axis]))) if len(pts) else 0.0
        out.append(max(1.15 * reach, floor))
    return out[0], out[1]


def _qfont(points: int):
    from pyqtgraph.Qt import QtGui

    f = QtGui.QFont()
    f.setPointSize(points)
    return f


__all__ = ["DanceCanvas", "dance_mode", "TRAIL", "GHOST_RUN", "MAIN_RUN"]

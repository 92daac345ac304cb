"""``ElbowsCanvas``: the elbows view's drawing (lecture note 2: elbows, dead ReLUs, the Cauchy law),
shared by the app's Elbows tab and ``reluviz export --view elbows``.

Top: a histogram of the elbows -b/w, stacked by what each unit does on the training data (bends
inside it, is dead, or is always active), with the expected counts at initialisation dashed (the
Cauchy density in counts per bin for the gaussian init), the data's x range shaded and one
clickable marker per unit under the axis (``unitClicked``). Bottom: where the kinks move, every
unit's elbow over the recorded steps (at most ``MAX_TRAIL_UNITS`` of them, evenly chosen, and
the title says so), coloured by what the unit does now; a selected unit's (``select_unit``) thick,
with grey dots where it was dead. The caption counts the units of each kind. Everything is
computed by ``reluviz.core.elbow_stats`` from the ``Frame``.
"""

from __future__ import annotations

import numpy as np

from reluviz.core.elbow_stats import (TRAIL_DENSE, TRAIL_SPARSE, ElbowTrail, cauchy_counts_curve, elbow_histogram,
                                      elbows, expected_init_counts, fast_activity, trail_with_dead)
from reluviz.core.frame import Frame, TrailSpec
from reluviz.plots.canvas import ViewCanvas
from reluviz.plots.lecture_common import SteadyRange
from reluviz.plots.lecture_elbows import ElbowHistogramPlot, ElbowTrailPlot

GAUSSIAN_RANGE = (-4.0, 5.0)
GAUSSIAN_BINS = 36
OTHER_BINS = 40
MAX_TRAIL_UNITS = 80   # units whose elbow is drawn over time (a wide net: an even subset)
TRAIL = TrailSpec(TRAIL_DENSE, TRAIL_SPARSE)


class ElbowsCanvas(ViewCanvas):
    """The elbow histogram of a frame and the elbows over the recorded steps."""

    def __init__(self, parent=None):
        super().__init__(parent, columns=1)
        g = self.grid
        self.legend = self.add_legend_row(1, 0)
        self.hist_item = g.addPlot(row=2, col=0)
        self.trail_item = g.addPlot(row=3, col=0)
        g.layout.setRowStretchFactor(2, 5)
        g.layout.setRowStretchFactor(3, 4)
        self.hist = ElbowHistogramPlot(self.hist_item)
        self.trail_plot = ElbowTrailPlot(self.trail_item)
        self.unitClicked = self.hist.unitClicked
        self.selected_unit: int | None = None
        self.frame: Frame | None = None
        self.counts: dict[str, int] = {}
        self.bin_counts: dict[str, np.ndarray] = {}
        self.kinds: list[str] = []
        self.unit_rows: list[tuple[str, str, str]] = []   # per unit: list text, tooltip, kind
        self.trail: ElbowTrail | None = None
        self.trail_units: np.ndarray = np.empty(0, dtype=int)
        self.message = ""   # why nothing is drawn (not a one-layer relu net), or ""
        self._frame_key = None
        self._yr = SteadyRange(margin=0.05, shrink_below=0.5)
        self.trail_plot.clear("")

    # ------------------------------------------------------------------ protocol
    def trail_spec(self, config) -> TrailSpec:
        """Recent rows densely and the older past thinned: every unit's elbow over training."""
        return TRAIL

    def select_unit(self, unit: int | None) -> None:
        """Follow ``unit``'s elbow (None or -1: none) and mark it in the histogram."""
        self.selected_unit = None if unit is None or unit < 0 else int(unit)
        if self.frame is not None:
            self._draw(self.frame)
            self.rescale_items()

    def set_scale(self, scale: float) -> None:
        super().set_scale(scale)
        self.hist.scale = self.scale
        self.trail_plot.title_points = max(6.5, 13.0 * self.scale)

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        layout = frame.snapshot.layout
        if layout.model != "relu" or layout.general:
            self._frame_key = None
            if layout.general:  # a unit of layer k > 1 has no elbow -b/w; tanh / sigmoid units none at all
                self.message = (
                    "This view is about one hidden layer of ReLUs, whose units bend at x = −b/w; this network has "
                    f"{layout.depth} layer{'s' if layout.depth > 1 else ''} of {layout.activation} units: the Fit "
                    "tab marks its kinks by layer and the Layers tab draws every unit.")
            else:
                self.message = f"Elbows belong to the ReLU network; this run fits a {layout.model} model (choose model = relu)."
            self._clear()
            self.set_caption(self.message)
            return
        self.message = ""
        self._set_frame(frame)
        if self.selected_unit is not None and self.selected_unit >= layout.width:
            self.selected_unit = None
        self._draw(frame)

    # ------------------------------------------------------------------ drawing
    def _clear(self) -> None:
        for item in self.hist.bars.values():
            item.setOpts(x=[], height=[], width=1.0, y0=0.0)
        self.hist.expected.setData([], [])
        self.hist.markers.setData([], [])
        self.hist.selected.setVisible(False)
        self.trail_plot.show_units(np.empty(0), {}, (0.0, 1.0))
        self.trail_plot.clear("")
        self.legend.set_entries([])
        self.counts, self.bin_counts, self.kinds, self.unit_rows, self.trail = {}, {}, [], [], None

    def _set_frame(self, frame: Frame) -> None:
        """What depends only on the data and the config: the bins and the expected counts at init."""
        cfg, dataset, layout = frame.config, frame.dataset, frame.snapshot.layout
        init = cfg.init
        x0, x1 = dataset.x_range
        key = (frame.run_id, id(dataset), init, layout.width, x0, x1)
        if key == self._frame_key:
            return
        self._frame_key = key
        self._yr.reset()
        if init == "gaussian":
            edges = np.linspace(*GAUSSIAN_RANGE, GAUSSIAN_BINS + 1)
        else:
            span = max(x1 - x0, 1e-9)
            edges = np.linspace(x0 - 0.5 * span, x1 + 0.5 * span, OTHER_BINS + 1)
        h = layout.width
        if init == "gaussian":
            xs = np.linspace(edges[0], edges[-1], 400)
            ys = cauchy_counts_curve(xs, h, float(edges[1] - edges[0]))
            self.hist.set_frame(edges, (x0, x1), xs, ys, False, "expected at init: Cauchy")
        else:
            exp = expected_init_counts(init, edges, h, (x0, x1))
            what = "uniform on data" if init == "uniform_elbows" else "all at 0"
            self.hist.set_frame(edges, (x0, x1), edges, exp, True, f"expected at init: {what}")
        self.trail_plot.set_data_range(x0, x1)

    def _draw(self, frame: Frame) -> None:
        if self._frame_key is None:
            return
        snap, ds = frame.snapshot, frame.dataset
        w, b, v = snap.get("w"), snap.get("b"), snap.get("v")
        e = elbows(w, b)
        act = fast_activity(w, b, ds.x_train)
        dead, always = act.dead, act.always_active
        bending = ~dead & ~always
        edges = self.hist.edges
        masks = {"bending": bending, "always": always, "dead": dead}
        self.bin_counts = {k: elbow_histogram(e[m], bins=edges).counts for k, m in masks.items()}
        allh = elbow_histogram(e, bins=edges)
        kinds = ["dead" if d else ("always" if a else "bending") for d, a in zip(dead, always)]
        self.kinds = kinds
        self.hist.show(self.bin_counts, e, kinds, self.selected_unit)
        h = len(w)
        self.counts = {"units": h, "dead": int(act.n_dead), "always": int(act.n_always_active),
                       "bending": int(bending.sum()), "below": allh.below, "above": allh.above,
                       "no_elbow": allh.no_elbow}
        self._unit_rows(e, w, v, act.active_counts, ds.n, kinds)
        self._draw_trails(frame, e, kinds)
        self.legend.set_entries(self.hist.legend_entries() + self._trail_entries())
        self.set_caption(self._counts_text(snap.step, ds.n))

    def _counts_text(self, step: int, n: int) -> str:
        c, h = self.counts, self.counts["units"]
        lo, hi = self.hist.edges[0], self.hist.edges[-1]
        beyond = c["below"] + c["above"]
        far = (f" &nbsp;·&nbsp; {beyond} elbow{'s' if beyond != 1 else ''} outside {lo:g} .. {hi:g} "
               "(arrows under the axis)" if beyond else "")
        if self.compact():  # a small frame or window: the counts only
            text = (f"<b>{c['dead']} of {h} units dead</b> · {c['always']} always active · {c['bending']} bend "
                    f"inside the data" + (f" · {beyond} outside {lo:g} .. {hi:g}" if beyond else ""))
        else:
            text = (f"<b>{c['dead']} of {h} units dead</b> (active on none of the {n} training points) &nbsp;·&nbsp; "
                    f"<b>{c['always']} always active</b> (a straight line on the data) &nbsp;·&nbsp; "
                    f"{c['bending']} bend inside the data{far}")
        return text if self._header else f"step {step}: &nbsp;{text}"

    def compact(self) -> bool:
        """Short texts: an export under ~900 pixels wide, or a small window's tab."""
        return self.scale < 0.8 or (self.isVisible() and (self.width() < 900 or self.height() < 520))

    def _unit_rows(self, e, w, v, active, n, kinds) -> None:
        tag = {"dead": "dead", "always": "always on", "bending": f"on {{}}/{n}"}
        self.unit_rows = [
            (f"{j:2d}:  x = {e[j]:+.3g}   {tag[kinds[j]].format(active[j])}",
             f"unit {j}: elbow −b/w = {e[j]:.4g}, slope w = {w[j]:.4g}, output weight v = {v[j]:.4g}, "
             f"active on {active[j]} of {n} training points", kinds[j])
            for j in range(len(w))]

    def _draw_trails(self, frame: Frame, e_now: np.ndarray, kinds: list[str]) -> None:
        snap, ds = frame.snapshot, frame.dataset
        rows = frame.trail
        layout = snap.layout
        h = layout.width
        steps = np.asarray(rows.steps) if len(rows) else np.asarray([snap.step])
        params = np.asarray(rows.params) if len(rows) else np.asarray(snap.params[:1])
        units = np.arange(h) if h <= MAX_TRAIL_UNITS else np.unique(np.linspace(0, h - 1, MAX_TRAIL_UNITS).round().astype(int))
        self.trail_units = units
        past = elbows(layout.get(params, "w")[:, units], layout.get(params, "b")[:, units]).T  # (U, K)
        kind_of = np.asarray(kinds)[units]
        edges = self.hist.edges
        clip = (float(edges[0]), float(edges[-1]))
        self.trail_plot.show_units(steps, {k: past[kind_of == k] for k in ("bending", "always", "dead")}, clip)
        j = self.selected_unit
        shown = [past[kind_of != "dead"]]
        if j is not None and j < h and len(rows):
            self.trail = trail_with_dead(layout, rows.params, rows.steps, j, x=ds.x_train)
            t = self.trail
            state = "dead now" if t.dead is not None and len(t.dead) and t.dead[-1] else "alive"
            self.trail_plot.show(t.steps, t.elbow, t.dead, snap.step, f"unit {j}: its elbow over training ({state})")
            shown.append(t.elbow[None, :])
        else:
            self.trail = None
            subset = f" ({len(units)} of {h} units, evenly chosen)" if len(units) < h else ""
            self.trail_plot.clear(f"where the kinks move: each unit's elbow over training{subset}", snap.step)
        vals = np.concatenate([s.ravel() for s in shown]) if shown else np.empty(0)
        vals = vals[np.isfinite(vals)]
        vals = vals[(vals >= clip[0]) & (vals <= clip[1])]
        lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else ds.x_range
        lo, hi = self._yr.update(lo, hi)
        self.trail_plot.set_range(int(steps[0]), int(snap.step), lo, hi)

    def _trail_entries(self) -> list[tuple[object, str]]:
        if self.trail is None:
            return []
        out = [(self.trail_plot.curve, f"unit {self.selected_unit} (selected)")]
        if self.trail.dead is not None and self.trail.dead.any():
            out.append((self.trail_plot.dead, f"steps where unit {self.selected_unit} was dead"))
        return out

    def trail_elbows(self) -> np.ndarray:
        """The selected unit's elbows over the recorded steps, oldest first (for ``FitPlot.set_elbow_trail``)."""
        return self.trail.elbow if self.trail is not None else np.empty(0)


__all__ = ["ElbowsCanvas", "MAX_TRAIL_UNITS", "TRAIL"]

"""Elbow diagnostics: where the elbows -b/w sit, the Cauchy law of the gaussian init, dead units.

Top: a histogram of the elbows, stacked by what each unit does on the training data (bends inside
it, is dead, or is always active), with the expected counts at initialisation dashed (for the
gaussian init the Cauchy density, in counts per bin), the data's x range shaded and one marker per
unit under the axis. Right: the units as a list. Clicking a marker or a list entry selects a unit:
the view emits ``unitSelected(j)`` (``-1``: none) so the window can highlight it everywhere, and
draws that unit's elbow over the recorded steps (bottom).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.config import TrainConfig
from reluviz.core.elbow_stats import (TRAIL_DENSE, TRAIL_SPARSE, ElbowTrail, cauchy_counts_curve, elbow_histogram,
                                      elbows, expected_init_counts, fast_activity, trail_with_dead)
from reluviz.core.frame import Frame, TrailSpec
from reluviz.gui.views.base import LectureView, big_font
from reluviz.plots import theme
from reluviz.plots.lecture_elbows import ElbowHistogramPlot, ElbowTrailPlot

GAUSSIAN_RANGE = (-4.0, 5.0)
GAUSSIAN_BINS = 36
OTHER_BINS = 40


class ElbowsView(LectureView):
    view_name = "elbows"
    title = "Elbows"
    explanation = (
        "<b>Where are the elbows, and which units are dead?</b> A unit max(0, w x + b) bends at x = −b/w. "
        "For w &gt; 0 it is switched on to the right of its elbow, for w &lt; 0 to the left, with slope w; the "
        "output weight v then scales it, possibly negatively. When w and b both start as standard Gaussians, "
        "−b/w follows a Cauchy law: most elbows land near 0, but its heavy tails throw some far from the data. "
        "A unit whose active side misses every training point outputs zero there and gets zero gradient from "
        "every batch: it is dead and never moves. One active on every point is just a straight line on the data.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._frame_key = None
        self._dataset = None
        self._snapshot = None
        self._rows = None
        self._list_texts: list[str] = []
        self.counts: dict[str, int] = {}
        self.bin_counts: dict[str, np.ndarray] = {}
        self.trail: ElbowTrail | None = None
        self.summary = QtWidgets.QLabel("")
        self.summary.setObjectName("elbowCounts")
        self.summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        big_font(self.summary, 3)
        self.body.addWidget(self.summary)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(theme.BACKGROUND)
        self.legend = pg.LegendItem(colCount=3, labelTextSize="12pt")
        self.plots.addItem(self.legend, row=0, col=0)
        self.hist_item = self.plots.addPlot(row=1, col=0)
        self.trail_item = self.plots.addPlot(row=2, col=0)
        self.plots.ci.layout.setRowStretchFactor(1, 3)
        self.plots.ci.layout.setRowStretchFactor(2, 2)
        self.hist = ElbowHistogramPlot(self.hist_item, self.legend)
        self.trail_plot = ElbowTrailPlot(self.trail_item)
        self.hist.unitClicked.connect(self._on_marker)
        split.addWidget(self.plots)
        side = QtWidgets.QWidget()
        sl = QtWidgets.QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        head = QtWidgets.QLabel("Units: elbow x, points active on\n(click one to follow it)")
        big_font(head, 1)
        sl.addWidget(head)
        self.unit_list = QtWidgets.QListWidget()
        self.unit_list.setObjectName("unitList")
        self.unit_list.setUniformItemSizes(True)
        big_font(self.unit_list, 1)
        self.unit_list.itemClicked.connect(self._on_list_clicked)
        sl.addWidget(self.unit_list, 1)
        self.clear_button = QtWidgets.QPushButton("Clear selection")
        self.clear_button.clicked.connect(lambda: self._user_select(None))
        sl.addWidget(self.clear_button)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([850, 330])
        self.split = split
        self.body.addWidget(split, 1)
        self.trail_plot.clear("Select a unit to follow its elbow over training")

    # ------------------------------------------------------------------ selection
    def select_unit(self, unit: int | None) -> None:
        """Highlight ``unit`` (None/-1 clears) without emitting ``unitSelected``."""
        super().select_unit(unit)
        self._sync_list()
        if self._snapshot is not None:
            self._draw(trail_changed=True)

    def _user_select(self, unit: int | None) -> None:
        self.select_unit(unit)
        self.unitSelected.emit(-1 if self.selected_unit is None else self.selected_unit)

    def _on_marker(self, unit: int) -> None:
        self._user_select(None if unit == self.selected_unit else unit)

    def _on_list_clicked(self, item: QtWidgets.QListWidgetItem) -> None:
        self._user_select(self.unit_list.row(item))

    def _sync_list(self) -> None:
        j = self.selected_unit
        self.unit_list.blockSignals(True)
        if j is None or j >= self.unit_list.count():
            self.unit_list.clearSelection()
        else:
            self.unit_list.setCurrentRow(j)
            self.unit_list.scrollToItem(self.unit_list.item(j))
        self.unit_list.blockSignals(False)

    # ------------------------------------------------------------------ protocol
    def trail_spec(self, config: TrainConfig) -> TrailSpec:
        return TrailSpec(TRAIL_DENSE, TRAIL_SPARSE)

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        cfg, snapshot, dataset = frame.config, frame.snapshot, frame.dataset
        layout = snapshot.layout
        self._snapshot = snapshot
        self._dataset = dataset
        if layout.model != "relu" or layout.general:
            self._frame_key = None
            if layout.general:  # a unit of layer k > 1 has no elbow -b/w; tanh / sigmoid units none at all
                self.summary.setText(
                    "This view is about one hidden layer of ReLUs, whose units bend at x = −b/w; this network has "
                    f"{layout.depth} layer{'s' if layout.depth > 1 else ''} of {layout.activation} units: the Fit "
                    "tab marks its kinks by layer and the Layers tab draws every unit.")
            else:
                self.summary.setText("Elbows belong to the ReLU network; this run fits a "
                                     f"{layout.model} model (choose model = relu).")
            self.trail_plot.clear("")
            self.split.setVisible(not layout.general)
            return
        self.split.setVisible(True)
        self._frame(cfg, dataset, layout)
        if self.selected_unit is not None and self.selected_unit >= layout.width:
            self.selected_unit = None
        self._rows = frame.trail
        self._draw(trail_changed=True)

    def _frame(self, cfg: TrainConfig | None, dataset, layout) -> None:
        init = cfg.init if cfg is not None else "uniform_elbows"
        x0, x1 = dataset.x_range
        key = (id(dataset), init, layout.width, x0, x1)
        if key == self._frame_key:
            return
        self._frame_key = key
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
        self.unit_list.clear()
        self._list_texts = [""] * h
        for j in range(h):
            self.unit_list.addItem(QtWidgets.QListWidgetItem(f"unit {j}"))
        self._sync_list()

    def _draw(self, trail_changed: bool = False) -> None:
        snap, ds = self._snapshot, self._dataset
        if snap.layout.model != "relu" or self._frame_key is None:
            return
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
        self.hist.show(self.bin_counts, e, kinds, self.selected_unit, (allh.below, allh.above))
        h = len(w)
        self.counts = {"units": h, "dead": int(act.n_dead), "always": int(act.n_always_active),
                       "bending": int(bending.sum()), "below": allh.below, "above": allh.above,
                       "no_elbow": allh.no_elbow}
        c = self.counts
        self.summary.setText(
            f"step {snap.step}: &nbsp;<b>{c['dead']} of {h} units dead</b> (active on none of the {ds.n} training "
            f"points) &nbsp;·&nbsp; <b>{c['always']} always active</b> (a straight line on the data) &nbsp;·&nbsp; "
            f"{c['bending']} bend inside the data")
        self._update_list(e, w, v, act.active_counts, ds.n, kinds)
        if trail_changed:
            self._draw_trail()

    def _update_list(self, e, w, v, active, n, kinds) -> None:
        grey = QtGui.QBrush(QtGui.QColor(130, 130, 130))
        black = QtGui.QBrush(QtGui.QColor(20, 20, 20))
        tag = {"dead": "dead", "always": "always on", "bending": f"on {{}}/{n}"}
        for j in range(len(w)):
            text = f"{j:2d}:  x = {e[j]:+.3g}   {tag[kinds[j]].format(active[j])}"
            if text != self._list_texts[j]:
                item = self.unit_list.item(j)
                item.setText(text)
                item.setToolTip(f"unit {j}: elbow −b/w = {e[j]:.4g}, slope w = {w[j]:.4g}, output weight v = {v[j]:.4g}, "
                                f"active on {active[j]} of {n} training points")
                item.setForeground(grey if kinds[j] == "dead" else black)
                self._list_texts[j] = text

    def _draw_trail(self) -> None:
        j, snap, ds = self.selected_unit, self._snapshot, self._dataset
        if j is None or j >= snap.layout.width or self._rows is None or len(self._rows) == 0:  # (no unit j: none)
            self.trail = None
            self.trail_plot.clear("Select a unit (marker, list or fit plot) to follow its elbow over training",
                                  snap.step if snap is not None else None)
            return
        self.trail = trail_with_dead(snap.layout, self._rows.params, self._rows.steps, j, x=ds.x_train)
        t = self.trail
        state = "dead now" if t.dead is not None and len(t.dead) and t.dead[-1] else "alive"
        self.trail_plot.show(t.steps, t.elbow, t.dead, snap.step,
                             f"unit {j}: elbow over training ({state}; grey dots: steps where it was dead)")

    def trail_elbows(self) -> np.ndarray:
        """The selected unit's elbows over the recorded steps, oldest first (for ``FitPlot.set_elbow_trail``)."""
        return self.trail.elbow if self.trail is not None else np.empty(0)

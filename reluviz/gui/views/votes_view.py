"""Votes: each training point's term of the full-batch gradient, and why a minibatch does not balance.

Left: one bar per training point at its x, its height the point's vote for the chosen parameter
(``reluviz.core.votes``): (2/N)(theta - y_i) for the constant model, (2/N)(theta x_i - y_i) x_i for
the line through the origin, (2/N)(f(x_i) - y_i) df(x_i)/dp for a parameter p of the relu net. The
current minibatch's points are orange. Right: the sum of all votes (the full-batch gradient, about
zero at theta*) next to the minibatch gradient (N/B times the sum of the orange votes), with their
values. Nothing here changes the run.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from reluviz.core.frame import Frame
from reluviz.core.optimum import optimum, optimum_too_big
from reluviz.core.votes import compute_votes
from reluviz.gui.views.base import LectureView, big_font
from reluviz.plots import theme
from reluviz.plots.lecture_votes import SumsPlot, VotesPlot, fmt_gradient

#: Votes are one number per training point and parameter (the core computes them all, N x P): above
#: this many the view says so instead of spending seconds and hundreds of MB on every frame.
VOTES_LIMIT = 4_000_000

KINDS = (("v", "v[j]: output weight of unit j"), ("w", "w[j]: slope of unit j"),
         ("b", "b[j]: bias of unit j"), ("c", "c: output bias"))


class VotesView(LectureView):
    view_name = "votes"
    title = "Votes"
    explanation = (
        "<b>Every training point votes on the gradient.</b> The full-batch gradient is a sum with one term per "
        "point: its vote on which way the parameter should move. For the constant model every vote is "
        "(2/N)(θ − yᵢ), equal weight for every point; for the line y = θx it is (2/N)(θxᵢ − yᵢ)xᵢ, so points far "
        "from the origin pull harder. At the optimum the votes cancel and their sum, the full-batch gradient, "
        "is zero. A minibatch counts only a few votes (orange); their sum is almost never zero, so SGD keeps "
        "moving even at the optimum.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._dataset_id = None
        self._layout = None
        self._snapshot = None
        self._dataset = None
        self.last_votes = None
        self._opt_key = None
        self._opt = None
        bar = QtWidgets.QHBoxLayout()
        self.param_label = QtWidgets.QLabel("parameter:")
        self.kind_combo = QtWidgets.QComboBox()
        self.kind_combo.setObjectName("voteParameter")
        for key, text in KINDS:
            self.kind_combo.addItem(text, key)
        self.unit_spin = QtWidgets.QSpinBox()
        self.unit_spin.setObjectName("voteUnit")
        self.unit_spin.setPrefix("unit j = ")
        self.kind_combo.currentIndexChanged.connect(self._on_param)
        self.unit_spin.valueChanged.connect(self._on_param)
        self.at_optimum = QtWidgets.QCheckBox("evaluate at θ* (Figure 1 vs 2)")
        self.at_optimum.setObjectName("votesAtOptimum")
        self.at_optimum.setToolTip("Show the votes at the full-batch optimum θ* instead of the current parameters "
                                   "(the run is not changed): the full-batch sum is zero there, the minibatch's is not.")
        self.at_optimum.toggled.connect(self._on_param)
        big_font(self.at_optimum, 2)
        self.theta_label = QtWidgets.QLabel("")
        self.theta_label.setObjectName("voteState")
        big_font(self.theta_label, 3)
        bar.addWidget(self.theta_label, 1)
        bar.addWidget(self.at_optimum)
        bar.addSpacing(12)
        for w in (self.param_label, self.kind_combo, self.unit_spin):
            bar.addWidget(w)
        self.body.addLayout(bar)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(theme.BACKGROUND)
        self.votes_item = self.plots.addPlot(row=0, col=0)
        self.sums_item = self.plots.addPlot(row=0, col=1)
        self.plots.ci.layout.setColumnStretchFactor(0, 4)
        self.plots.ci.layout.setColumnStretchFactor(1, 1)
        self.sums_item.setMinimumWidth(270)
        self.votes_plot = VotesPlot(self.votes_item)
        self.sums_plot = SumsPlot(self.sums_item)
        self.body.addWidget(self.plots, 1)
        self.summary = QtWidgets.QLabel("")
        self.summary.setObjectName("voteSums")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        big_font(self.summary, 3)
        self.body.addWidget(self.summary)

    # ------------------------------------------------------------------ parameter choice
    def parameter(self) -> str:
        """The parameter whose votes are shown: ``theta``, ``c``, or ``w[j]`` / ``b[j]`` / ``v[j]``."""
        if self._layout is not None and self._layout.model == "affine":
            return "a"  # (the slope; the votes helper adds the choice of a or b)
        if self._layout is None or self._layout.model != "relu":
            return "theta"
        kind = self.kind_combo.currentData()
        return "c" if kind == "c" else f"{kind}[{self.unit_spin.value()}]"

    def set_parameter(self, name: str) -> None:
        """Choose the parameter by name (``c``, ``v[3]``, ...); ignored for one-parameter models."""
        if name in ("theta", "c"):
            self.kind_combo.setCurrentIndex(self.kind_combo.findData("c") if name == "c" else 0)
            return
        kind, j = name[0], int(name[2:-1])
        self.unit_spin.setValue(j)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def select_unit(self, unit: int | None) -> None:
        super().select_unit(unit)
        if unit is not None and unit >= 0 and self._layout is not None and self._layout.model == "relu":
            if self.kind_combo.currentData() == "c":
                self.kind_combo.setCurrentIndex(self.kind_combo.findData("v"))
            self.unit_spin.setValue(int(unit))

    def _on_param(self, _value=None) -> None:
        self.unit_spin.setEnabled(self.kind_combo.currentData() != "c")
        self.votes_plot.reset()
        self.sums_plot.reset()
        if self._snapshot is not None:
            self._draw()

    def _optimum(self, snap) -> np.ndarray | None:
        """theta* (P,) when it has a closed form (constant, linear, relu training its output layer)."""
        cfg, ds = self.config, self._dataset
        if cfg is None or (snap.layout.model == "relu" and cfg.train != "output"):
            return None
        params = np.asarray(snap.params[0])
        hidden = params[: snap.layout.output_start].tobytes()
        key = (id(ds), snap.layout, cfg.ridge, cfg.train, hidden)
        if key != self._opt_key:
            self._opt = optimum(cfg, ds, params).params
            self._opt_key = key
        return self._opt

    def _too_many(self, n: int, p: int) -> None:
        self.last_votes = None
        self.votes_plot.bars.setOpts(x=[], height=[])
        self.votes_plot.batch_bars.setOpts(x=[], height=[])
        self.theta_label.setText("")
        self.summary.setText(f"<b>Too many votes to draw live:</b> {n:,} training points × {p:,} parameters "
                             f"(at most {VOTES_LIMIT:,}). Use fewer points or a narrower network to see them.")

    # ------------------------------------------------------------------ protocol
    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        snapshot, dataset = frame.snapshot, frame.dataset
        layout = snapshot.layout
        if id(dataset) != self._dataset_id or layout != self._layout:
            self._dataset_id = id(dataset)
            self._dataset = dataset
            relu = layout.model == "relu"
            self._layout = layout
            for w in (self.param_label, self.kind_combo, self.unit_spin):
                w.setVisible(relu)
            if relu:
                self.unit_spin.blockSignals(True)
                self.unit_spin.setRange(0, layout.width - 1)
                self.unit_spin.blockSignals(False)
            self.votes_plot.set_points(dataset.x_train)
            self.votes_plot.reset()
            self.sums_plot.reset()
        self._snapshot = snapshot
        self._draw()

    def _draw(self) -> None:
        snap, ds, cfg = self._snapshot, self._dataset, self.config
        layout = snap.layout
        name = self.parameter()
        lam = cfg.ridge if cfg is not None else 0.0
        batch = np.asarray(snap.batch[0])
        full_batch = (cfg is not None and cfg.batch_size == 0) or len(batch) >= ds.n and len(np.unique(batch)) == ds.n
        params = np.asarray(snap.params[0])
        where = ""
        exact = cfg is not None and (layout.model != "relu" or cfg.train == "output") and \
            not optimum_too_big(layout, ds.n, cfg.train)
        if self.at_optimum.isEnabled() != exact:
            self.at_optimum.setEnabled(exact)
            self.at_optimum.setToolTip(self.at_optimum.toolTip() if exact else
                                       "θ* has no closed form when the hidden layer trains.")
        star = self._optimum(snap) if exact and self.at_optimum.isChecked() else None
        if star is not None:
            params = star
            where = " at θ*"
        if ds.n * layout.size > VOTES_LIMIT:
            self._too_many(ds.n, layout.size)
            return
        v = compute_votes(layout, params, ds.x_train, ds.y_train, batch=None if full_batch else batch,
                          select=[name], ridge=lam, mask=layout.mask(cfg.train) if cfg is not None else None)
        self.last_votes = v
        votes = v.votes[:, 0]
        n, bsize = v.n, v.batch_size
        sym = "θ" if name == "theta" else name
        if layout.model == "constant":
            formula = "vote = (2/N)(θ − yᵢ)"
        elif layout.model == "linear":
            formula = "vote = (2/N)(θxᵢ − yᵢ)xᵢ"
        else:
            formula = f"vote = (2/N)(f(xᵢ) − yᵢ) ∂f/∂{sym}"
        self.votes_plot.show(ds.x_train, votes, v.batch_mask, ylabel=f"{formula}   [loss per unit of {sym}]")
        full = float(v.full_gradient[0])
        scale = float(np.abs(v.votes).sum())  # the size of the terms that cancel
        self.sums_plot.scale = scale
        batch_grad = None if full_batch else float(v.batch_gradient[0])
        ridge_vote = float(v.decay_term[0]) if lam else None
        self.sums_plot.show(full, batch_grad, ylabel=f"∂F/∂{sym}   [loss per unit of {sym}]", ridge=ridge_vote,
                            votes=float(v.full_sum[0]))
        value = float(params[v.columns[0]])
        self.theta_label.setText(f"step {snap.step}:  {sym} = {value:.4g}" + (" (θ*, the optimum)" if star is not None else ""))
        lr = float(snap.lr[0])
        decay = f" + the ridge's vote 2λ{sym} ({float(v.decay_term[0]):+.3g})" if lam else ""
        shown = fmt_gradient(full, scale)
        if lam:  # the data's votes and the regulariser's balance at the ridge optimum
            head = (f"<b>Sum of all {n} votes{where}</b> ({float(v.full_sum[0]):+.3g}){decay} = full-batch gradient "
                    f"∂F/∂{sym} of the objective")
        else:
            head = f"<b>Sum of all {n} votes{where}</b> = full-batch gradient ∂L/∂{sym}"
        text = (f"{head} {'' if shown == '≈ 0' else '= '}<b>{shown}</b>"
                + (f" ({full:.2g}: rounding error)" if shown == "≈ 0" else ""))
        if batch_grad is not None:
            text += (f" &nbsp;&nbsp;·&nbsp;&nbsp; <b><span style='color: rgb{theme.BATCH}'>Minibatch gradient</span></b>"
                     f" = ({n}/{bsize}) × sum of the {bsize} orange votes{decay} = <b>{batch_grad:+.3g}</b>:"
                     f" this step moves {sym} by −lr × gradient = {-lr * batch_grad:+.3g}")
        else:
            text += " (full-batch training: the step uses exactly this sum)"
        self.summary.setText(text)

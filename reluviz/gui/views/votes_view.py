"""Votes: each training point's term of the full-batch gradient, and why a minibatch does not balance.

The drawing is ``reluviz.plots.votes_canvas.VotesCanvas`` (the exporter draws the same canvas):
votes per point, for the constant, linear and affine models each point's error beside them with
the worksheet's pair (same error, different x), and the full-batch sum against the minibatch's.
This widget holds only the controls: which parameter (a or b of the affine model; w[j], b[j],
v[j] or c of a relu net, with its unit j) and "evaluate at θ*". Nothing here changes the run.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from reluviz.core.frame import Frame
from reluviz.gui.views.base import LectureView, big_font
from reluviz.plots.votes_canvas import VotesCanvas

KINDS = (("v", "v[j]: output weight of unit j"), ("w", "w[j]: slope of unit j"),
         ("b", "b[j]: bias of unit j"), ("c", "c: output bias"))
AFFINE = (("a", "a: slope (vote = 2/N × error × xᵢ)"), ("b", "b: intercept (vote = 2/N × error)"))


class VotesView(LectureView):
    view_name = "votes"
    title = "Votes"
    explanation = (
        "<b>Every training point votes on the gradient.</b> The full-batch gradient is a sum with one term per "
        "point: its vote on which way the parameter should move. For the constant model every vote is "
        "(2/N)(θ − yᵢ), equal weight for every point; for the line y = θx it is (2/N)(θxᵢ − yᵢ)xᵢ, so points far "
        "from the origin pull harder: two points with the same error (purple, worksheet 1(b)) vote differently. "
        "At the optimum the votes cancel and their sum, the full-batch gradient, is zero. A minibatch counts "
        "only a few votes (orange); their sum is almost never zero, so SGD keeps moving even at the optimum.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._layout = None
        bar = QtWidgets.QHBoxLayout()
        self.param_label = QtWidgets.QLabel("parameter:")
        self.kind_combo = QtWidgets.QComboBox()
        self.kind_combo.setObjectName("voteParameter")
        self.kind_combo.setToolTip("Whose votes to show: each training point's term of the gradient for this parameter.")
        for key, text in KINDS:
            self.kind_combo.addItem(text, key)
        self.unit_spin = QtWidgets.QSpinBox()
        self.unit_spin.setObjectName("voteUnit")
        self.unit_spin.setPrefix("unit j = ")
        self.affine_combo = QtWidgets.QComboBox()
        self.affine_combo.setObjectName("voteAffineParameter")
        self.affine_combo.setToolTip("The line y = a x + b: the slope's votes weigh each error by xᵢ, the "
                                     "intercept's do not (the constant model's votes).")
        for key, text in AFFINE:
            self.affine_combo.addItem(text, key)
        self.kind_combo.currentIndexChanged.connect(self._on_param)
        self.unit_spin.valueChanged.connect(self._on_param)
        self.affine_combo.currentIndexChanged.connect(self._on_param)
        self.at_optimum = QtWidgets.QCheckBox("evaluate at θ* (Figure 1 vs 2)")
        self.at_optimum.setObjectName("votesAtOptimum")
        self._optimum_tip = ("Show the votes at the full-batch optimum θ* instead of the current parameters "
                             "(the run is not changed): the full-batch sum is zero there, the minibatch's is not.")
        self.at_optimum.setToolTip(self._optimum_tip)
        self.at_optimum.toggled.connect(self._on_param)
        big_font(self.at_optimum, 2)
        bar.addStretch(1)
        bar.addWidget(self.at_optimum)
        bar.addSpacing(12)
        for w in (self.param_label, self.kind_combo, self.unit_spin, self.affine_combo):
            bar.addWidget(w)
        self.body.addLayout(bar)
        self.canvas = VotesCanvas()
        self.canvas.setMinimumHeight(380)
        self.body.addWidget(self.canvas, 1)
        # the canvas's parts, by the names the tests use
        self.votes_plot = self.canvas.votes_plot
        self.errors_plot = self.canvas.errors_plot
        self.sums_plot = self.canvas.sums_plot
        self.summary = self.canvas.summary
        self.theta_label = self.canvas.caption
        self._show_controls(None)

    @property
    def last_votes(self):
        return self.canvas.last_votes

    # ------------------------------------------------------------------ parameter choice
    def parameter(self) -> str:
        """The parameter whose votes are shown: ``theta``, ``a``/``b``, ``c``, or ``w[j]`` / ``b[j]`` / ``v[j]``."""
        model = self._layout.model if self._layout is not None else None
        if model == "affine":
            return self.affine_combo.currentData()
        if model != "relu":
            return "theta"
        kind = self.kind_combo.currentData()
        return "c" if kind == "c" else f"{kind}[{self.unit_spin.value()}]"

    def set_parameter(self, name: str) -> None:
        """Choose the parameter by name (``c``, ``v[3]``, ``a``, ``b``, ...); ignored for one-parameter models."""
        model = self._layout.model if self._layout is not None else None
        if model == "affine" and name in ("a", "b"):
            self.affine_combo.setCurrentIndex(self.affine_combo.findData(name))
            return
        if name in ("theta", "c", "a", "b"):
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
        self.canvas.set_at_optimum(self.at_optimum.isChecked())
        self.canvas.set_parameter(self.parameter())

    def _show_controls(self, model: str | None) -> None:
        relu = model == "relu"
        for w in (self.param_label, self.kind_combo, self.unit_spin):
            w.setVisible(relu)
        self.param_label.setVisible(relu or model == "affine")
        self.affine_combo.setVisible(model == "affine")

    # ------------------------------------------------------------------ protocol
    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        layout = frame.snapshot.layout
        if layout != self._layout:
            self._layout = layout
            self._show_controls(layout.model)
            if layout.model == "relu":
                self.unit_spin.blockSignals(True)
                self.unit_spin.setRange(0, layout.width - 1)
                self.unit_spin.blockSignals(False)
        self.canvas.parameter_chosen = self.parameter()
        self.canvas.show_frame(frame)
        exact = self.canvas.exact
        if self.at_optimum.isEnabled() != exact:
            self.at_optimum.setEnabled(exact)
            self.at_optimum.setToolTip(self._optimum_tip if exact else "θ* has no closed form when the hidden layer trains.")

"""The side panel: preset, data, model, optimizer and playback controls (no maths, no training).

Each control maps to one ``TrainConfig`` field (``ControlPanel.widgets[field]``). The panel emits
``edited(field)`` when the user changes one; the window then builds ``panel.config()`` and decides
whether that resets the run (data, model) or applies from the next step (optimizer).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.config import INITS, MODELS, OPTIMIZERS, SAMPLINGS, SCHEDULES, TRAIN_LAYERS, TrainConfig
from reluviz.core.data import TARGET_FUNCTIONS
from reluviz.core.presets import load_preset, preset_names
from reluviz.gui.session import MAX_LIVE_BATCH

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0)  # updates per frame; 0 = as fast as possible
LR_LOG_MIN, LR_LOG_MAX, LR_TICKS = -5.0, 1.0, 600

TIPS = {
    "target": "The true function the data are sampled from (dashed green). 'piecewise' is the course "
              "notebook's target with knots at k/10; 'csv' is a file of your own x,y rows.",
    "n_train": "N, the number of training points. The loss is their average squared error.",
    "noise": "Standard deviation of the Gaussian noise added to each training label y_i.",
    "data_seed": "Seed of the random x_i and noise: the same seed gives the same data set.",
    "model": "relu: f(x) = sum_j v_j relu(w_j x + b_j) + c, a sum of elbows.\n"
             "constant: y = theta (every point gets an equal vote).\n"
             "linear: y = theta x (votes grow with x).",
    "width": "H, the number of hidden ReLU units (elbows).",
    "init": "How w, b, v start. uniform_elbows: elbows -b/w spread uniformly over the data (the notebook).\n"
            "gaussian: w, b ~ N(0, 1), so -b/w is Cauchy: many elbows land outside the data (dead ReLUs).\n"
            "he: w ~ N(0, 2), b = 0.",
    "init_seed": "Seed of the initial weights.",
    "train": "Which parameters learn. all; output: only v and c (random features, a convex problem); "
             "hidden: only w and b. Applies from the next step.",
    "optimizer": "sgd: theta <- theta - lr g.  momentum / nesterov: a running sum of gradients (heavy ball).\n"
                 "adam: per-parameter rates from running averages of g and g^2.",
    "lr": "Learning rate: the step size. Gradient descent is stable only below 2 / curvature; "
          "too large and the loss blows up. Applies from the next step.",
    "momentum": "mu: how much of the previous step carries over (momentum and nesterov only).",
    "beta1": "Adam's beta1: averaging of the gradient (the first moment).",
    "beta2": "Adam's beta2: averaging of the squared gradient (the second moment).",
    "weight_decay": "Ridge regularisation: adds weight_decay * theta to the gradient (shrinks weights).",
    "schedule": "How the learning rate changes with the step t. With a constant rate SGD keeps "
                "dancing around the optimum; a decaying rate (inverse: lr / (1 + k t)) lets it settle.",
    "step_size": "step schedule: multiply the rate by gamma every step_size steps.",
    "gamma": "step schedule: the factor applied every step_size steps.",
    "exp_gamma": "exponential schedule: the rate is lr * exp_gamma^t.",
    "decay": "inverse schedule: the rate is lr / (1 + decay * t).",
    "t_max": "cosine schedule: steps to anneal over (0: the run length).",
    "lr_min": "cosine schedule: the rate it anneals down to.",
    "full_batch": "Full-batch gradient descent: every step uses all N points (the gradient is exact, "
                  "the per-point votes cancel at the optimum).",
    "batch_size": "B, the minibatch size of SGD: each step estimates the gradient from B points.",
    "sampling": "How minibatches are drawn: with replacement (independent draws), shuffle (each epoch "
                "visits every point once), or sequential (the same order every epoch).",
    "sample_seed": "Seed of the minibatch order (changing it starts a new run).",
    "steps": "Run length: playing stops here (press play again to go on).",
    "speed": "Updates per drawn frame. 1 shows every single SGD step; 'max' trains as fast as the "
             "machine can and draws the newest state about 60 times a second.",
}

GROUP_OF = {
    "target": "data", "n_train": "data", "noise": "data", "data_seed": "data", "csv_path": "data",
    "model": "model", "width": "model", "init": "model", "init_seed": "model", "train": "model",
}


class LrSpinBox(QtWidgets.QDoubleSpinBox):
    """A spin box that shows a rate as 0.02 or 1e-05, not 0.020000."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):  # noqa: D102 - accept what float() accepts, e.g. 1e-3
        try:
            float(text)
            return QtGui.QValidator.State.Acceptable, text, pos
        except ValueError:
            return QtGui.QValidator.State.Intermediate, text, pos


class ControlPanel(QtWidgets.QWidget):
    """Controls for every setting. Signals: ``edited(field)``, ``presetChosen(name)``,
    ``speedChanged(int)``, ``csvRequested()``."""

    edited = QtCore.Signal(str)
    presetChosen = QtCore.Signal(str)
    speedChanged = QtCore.Signal(int)
    csvRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.widgets: dict[str, QtWidgets.QWidget] = {}
        self._labels: dict[str, QtWidgets.QLabel] = {}
        self._csv_path = ""
        self._updating = False
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self._preset_group())
        layout.addWidget(self._data_group())
        layout.addWidget(self._model_group())
        layout.addWidget(self._optimizer_group())
        self.playback_group = QtWidgets.QGroupBox("Playback")
        self.playback_group.setObjectName("playbackGroup")
        layout.addWidget(self.playback_group)
        layout.addStretch(1)
        self._build_playback()
        self._connect()
        self.update_enabled()

    # ------------------------------------------------------------------ building
    def _form(self, title: str, name: str) -> tuple[QtWidgets.QGroupBox, QtWidgets.QFormLayout]:
        box = QtWidgets.QGroupBox(title)
        box.setObjectName(name)
        form = QtWidgets.QFormLayout(box)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        form.setContentsMargins(8, 6, 8, 6)
        form.setVerticalSpacing(4)
        return box, form

    def _add(self, form: QtWidgets.QFormLayout, field: str, label: str, widget: QtWidgets.QWidget) -> None:
        widget.setObjectName(field)
        tip = TIPS.get(field, "")
        widget.setToolTip(tip)
        lab = QtWidgets.QLabel(label)
        lab.setToolTip(tip)
        lab.setBuddy(widget)
        form.addRow(lab, widget)
        self.widgets[field] = widget
        self._labels[field] = lab

    @staticmethod
    def _combo(items, labels=None) -> QtWidgets.QComboBox:
        c = QtWidgets.QComboBox()
        for i, item in enumerate(items):
            c.addItem(labels[i] if labels else item, item)
        return c

    @staticmethod
    def _int(lo: int, hi: int, step: int = 1) -> QtWidgets.QSpinBox:
        s = QtWidgets.QSpinBox()
        s.setRange(lo, hi)
        s.setSingleStep(step)
        s.setKeyboardTracking(False)
        s.setAccelerated(True)
        return s

    @staticmethod
    def _float(lo: float, hi: float, step: float, decimals: int = 4) -> QtWidgets.QDoubleSpinBox:
        s = QtWidgets.QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setSingleStep(step)
        s.setKeyboardTracking(False)
        return s

    def _preset_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Preset")
        box.setObjectName("presetGroup")
        v = QtWidgets.QVBoxLayout(box)
        v.setContentsMargins(8, 6, 8, 6)
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.setObjectName("preset")
        self.preset_combo.setToolTip("Starting points tied to the course notes; choosing one starts a new run.")
        self.preset_combo.addItem("(custom settings)", "")
        for name in preset_names():
            try:
                title = load_preset(name).title
            except Exception:  # a broken preset file should not take the app down
                continue
            self.preset_combo.addItem(title, name)
        self.preset_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(18)
        v.addWidget(self.preset_combo)
        self.description = QtWidgets.QLabel("")
        self.description.setObjectName("presetDescription")
        self.description.setWordWrap(True)
        self.description.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.description.setStyleSheet("color: #444;")
        v.addWidget(self.description)
        return box

    def _data_group(self) -> QtWidgets.QGroupBox:
        box, form = self._form("Data  (changes start a new run)", "dataGroup")
        targets = list(TARGET_FUNCTIONS) + ["csv"]
        combo = self._combo(targets, [t if t != "csv" else "csv (your file)" for t in targets])
        for i, t in enumerate(targets):
            if t in TARGET_FUNCTIONS:
                combo.setItemData(i, TARGET_FUNCTIONS[t][1], QtCore.Qt.ItemDataRole.ToolTipRole)
        self._add(form, "target", "target", combo)
        self.csv_button = QtWidgets.QPushButton("Load CSV...")
        self.csv_button.setObjectName("loadCsv")
        self.csv_button.setToolTip("Fit your own data: a text file of x,y rows (a header line is allowed).")
        self.csv_label = QtWidgets.QLabel("")
        self.csv_label.setObjectName("csvLabel")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.csv_button)
        row.addWidget(self.csv_label, 1)
        form.addRow("", row)
        self._add(form, "n_train", "points N", self._int(2, 100_000, 10))
        self._add(form, "noise", "noise std", self._float(0.0, 10.0, 0.01, 3))
        self._add(form, "data_seed", "data seed", self._int(0, 2**31 - 1))
        return box

    def _model_group(self) -> QtWidgets.QGroupBox:
        box, form = self._form("Model  (changes start a new run)", "modelGroup")
        self._add(form, "model", "model", self._combo(MODELS))
        self._add(form, "width", "width H", self._int(1, 5000))
        self._add(form, "init", "init", self._combo(INITS))
        self._add(form, "init_seed", "init seed", self._int(0, 2**31 - 1))
        self._add(form, "train", "train", self._combo(TRAIN_LAYERS, ["all layers", "output only (v, c)", "hidden only (w, b)"]))
        return box

    def _optimizer_group(self) -> QtWidgets.QGroupBox:
        box, form = self._form("Optimizer  (applies from the next step)", "optimizerGroup")
        self._add(form, "optimizer", "optimizer", self._combo(OPTIMIZERS))
        lr_row = QtWidgets.QWidget()
        h = QtWidgets.QHBoxLayout(lr_row)
        h.setContentsMargins(0, 0, 0, 0)
        self.lr_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.lr_slider.setObjectName("lrSlider")
        self.lr_slider.setRange(0, LR_TICKS)
        self.lr_slider.setToolTip(TIPS["lr"] + "\nThe slider is logarithmic: from 1e-5 to 10.")
        lr_spin = LrSpinBox()
        lr_spin.setRange(1e-6, 100.0)
        lr_spin.setDecimals(8)
        lr_spin.setSingleStep(0.001)
        lr_spin.setStepType(QtWidgets.QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        lr_spin.setKeyboardTracking(False)
        lr_spin.setMinimumWidth(80)
        h.addWidget(self.lr_slider, 1)
        h.addWidget(lr_spin)
        lr_spin.setObjectName("lr")
        lr_spin.setToolTip(TIPS["lr"])
        label = QtWidgets.QLabel("learning rate")
        label.setToolTip(TIPS["lr"])
        label.setBuddy(lr_spin)
        form.addRow(label, lr_row)
        self.widgets["lr"] = lr_spin
        self._labels["lr"] = label
        self._add(form, "momentum", "momentum mu", self._float(0.0, 0.999, 0.05, 3))
        self._add(form, "beta1", "Adam beta1", self._float(0.0, 0.9999, 0.01, 4))
        self._add(form, "beta2", "Adam beta2", self._float(0.0, 0.99999, 0.001, 5))
        self._add(form, "weight_decay", "weight decay", self._float(0.0, 10.0, 0.0001, 5))
        self._add(form, "schedule", "lr schedule", self._combo(SCHEDULES))
        self._add(form, "step_size", "  step every", self._int(1, 10_000_000, 100))
        self._add(form, "gamma", "  gamma", self._float(0.0001, 1.0, 0.05, 4))
        self._add(form, "exp_gamma", "  exp gamma", self._float(0.9, 1.0, 0.0001, 6))
        self._add(form, "decay", "  decay k", self._float(0.0, 10.0, 0.0005, 5))
        self._add(form, "t_max", "  t_max", self._int(0, 10_000_000, 1000))
        self._add(form, "lr_min", "  lr_min", self._float(0.0, 10.0, 0.0001, 6))
        full = QtWidgets.QCheckBox("full batch (gradient descent)")
        self._add(form, "full_batch", "", full)
        self._add(form, "batch_size", "batch size B", self._int(1, MAX_LIVE_BATCH))
        self._add(form, "sampling", "sampling", self._combo(SAMPLINGS, ["with replacement", "shuffle each epoch", "sequential"]))
        self._add(form, "sample_seed", "batch seed", self._int(0, 2**31 - 1))
        return box

    def _build_playback(self) -> None:
        form = QtWidgets.QFormLayout(self.playback_group)
        form.setContentsMargins(8, 6, 8, 6)
        self.speed_combo = self._combo(SPEEDS, [str(s) if s else "max" for s in SPEEDS])
        self.speed_combo.setObjectName("speed")
        self.speed_combo.setToolTip(TIPS["speed"])
        form.addRow("steps / frame", self.speed_combo)
        self._add(form, "steps", "run length", self._int(0, 100_000_000, 1000))
        self.buttons = QtWidgets.QGridLayout()
        self.buttons.setSpacing(4)
        form.addRow(self.buttons)

    def add_action_buttons(self, actions: list[QtGui.QAction]) -> None:
        """Tool buttons for the playback actions (play/pause, step, ...), two per row."""
        for i, action in enumerate(actions):
            b = QtWidgets.QToolButton()
            b.setDefaultAction(action)
            b.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
            b.setMinimumHeight(28)
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # keep Space / arrows for the playback shortcuts
            self.buttons.addWidget(b, i // 2, i % 2)

    def _connect(self) -> None:
        for field, w in self.widgets.items():
            if isinstance(w, QtWidgets.QComboBox):
                w.currentIndexChanged.connect(lambda _i, f=field: self._on_edit(f))
            elif isinstance(w, QtWidgets.QCheckBox):
                w.toggled.connect(lambda _b, f=field: self._on_edit(f))
            else:
                w.valueChanged.connect(lambda _v, f=field: self._on_edit(f))
        self.lr_slider.valueChanged.connect(self._on_lr_slider)
        self.preset_combo.activated.connect(self._on_preset)
        self.speed_combo.currentIndexChanged.connect(lambda _i: self.speedChanged.emit(self.speed()))
        self.csv_button.clicked.connect(self.csvRequested.emit)

    # ------------------------------------------------------------------ events
    def _on_edit(self, field: str) -> None:
        if field == "lr":
            self._sync_lr_slider()
        if self._updating:
            return
        self.update_enabled()
        self.edited.emit(field)

    def _on_lr_slider(self, tick: int) -> None:
        if self._updating:
            return
        lr = 10 ** (LR_LOG_MIN + (LR_LOG_MAX - LR_LOG_MIN) * tick / LR_TICKS)
        lr = float(f"{lr:.3g}")
        spin = self.widgets["lr"]
        if abs(spin.value() - lr) > 1e-12:
            spin.setValue(lr)  # emits edited("lr")

    def _sync_lr_slider(self) -> None:
        lr = self.widgets["lr"].value()
        tick = round((math.log10(max(lr, 1e-12)) - LR_LOG_MIN) / (LR_LOG_MAX - LR_LOG_MIN) * LR_TICKS)
        self.lr_slider.blockSignals(True)
        self.lr_slider.setValue(int(min(max(tick, 0), LR_TICKS)))
        self.lr_slider.blockSignals(False)

    def _on_preset(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name:
            self.presetChosen.emit(name)

    # ------------------------------------------------------------------ reading and writing
    def speed(self) -> int:
        return int(self.speed_combo.currentData())

    def set_speed(self, speed: int) -> None:
        i = self.speed_combo.findData(int(speed))
        if i >= 0:
            self.speed_combo.setCurrentIndex(i)

    def set_preset(self, name: str | None, description: str = "") -> None:
        """Show ``name`` as the current preset (None/'' = custom) and its description."""
        self.preset_combo.blockSignals(True)
        i = self.preset_combo.findData(name or "")
        self.preset_combo.setCurrentIndex(max(i, 0))
        self.preset_combo.blockSignals(False)
        self.description.setText(description)
        self.description.setVisible(bool(description))

    def set_csv_path(self, path: str) -> None:
        self._csv_path = path
        self.csv_label.setText(Path(path).name if path else "")
        self.csv_label.setToolTip(path)

    def set_config(self, cfg: TrainConfig) -> None:
        """Show ``cfg`` in the controls (emits nothing)."""
        self._updating = True
        try:
            self.widgets["batch_size"].setMaximum(MAX_LIVE_BATCH)  # (update_enabled sets the real bound)
            for field, w in self.widgets.items():
                if field == "full_batch":
                    w.setChecked(cfg.batch_size == 0)
                    continue
                value = getattr(cfg, field)
                if field == "batch_size" and value == 0:
                    value = min(40, cfg.n_train) if cfg.target != "csv" else w.value()
                if isinstance(w, QtWidgets.QComboBox):
                    w.setCurrentIndex(max(w.findData(value), 0))
                else:  # (clamped: a value beyond a 32-bit spin box's range raises OverflowError)
                    w.setValue(min(max(value, w.minimum()), w.maximum()))
            self.set_csv_path(cfg.csv_path)
            self._sync_lr_slider()
        finally:
            self._updating = False
        self.update_enabled()

    def values(self) -> dict:
        """The settings the controls show (not validated)."""
        out = {}
        for field, w in self.widgets.items():
            if field == "full_batch":
                continue
            if isinstance(w, QtWidgets.QComboBox):
                out[field] = w.currentData()
            else:
                out[field] = w.value()
        if self.widgets["full_batch"].isChecked():
            out["batch_size"] = 0
        out["csv_path"] = self._csv_path
        return out

    def config(self, base: TrainConfig | None = None) -> TrainConfig:
        """A validated config from the controls over ``base`` (``ConfigError`` if invalid)."""
        return (base or TrainConfig()).updated(self.values())

    def update_enabled(self) -> None:
        """Disable controls that mean nothing for the current choices."""
        w = self.widgets
        target = w["target"].currentData()
        relu = w["model"].currentData() == "relu"
        opt = w["optimizer"].currentData()
        sched = w["schedule"].currentData()
        full = w["full_batch"].isChecked()
        csv = target == "csv"
        rules = {
            "n_train": not csv, "noise": not csv,
            "width": relu, "init": relu, "train": relu,
            "momentum": opt in ("momentum", "nesterov"),
            "beta1": opt == "adam", "beta2": opt == "adam",
            "step_size": sched == "step", "gamma": sched == "step",
            "exp_gamma": sched == "exponential", "decay": sched == "inverse",
            "t_max": sched == "cosine", "lr_min": sched == "cosine",
            "batch_size": not full, "sampling": not full, "sample_seed": not full,
        }
        for field, on in rules.items():
            w[field].setEnabled(on)
            self._labels[field].setEnabled(on)
        if not csv and w["target"].count():
            n = w["n_train"].value()
            w["batch_size"].setMaximum(max(1, min(n, MAX_LIVE_BATCH)))
        else:
            w["batch_size"].setMaximum(MAX_LIVE_BATCH)
        model = w["target"].model()
        i = w["target"].findData("csv")
        item = model.item(i) if hasattr(model, "item") else None
        if item is not None:
            item.setEnabled(bool(self._csv_path))

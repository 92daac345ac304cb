"""The side panel: preset, data, model, optimizer and playback controls (no maths, no training).

Each control maps to one ``TrainConfig`` field (``ControlPanel.widgets[field]``). Ranges, steps,
decimals, tooltips, combo items and which controls are enabled all come from the fields'
``Setting`` (``reluviz.core.config.SETTINGS``); the app's own limits on top of them are in
``APP_RANGES``. The panel emits ``edited(field)`` when the user changes one; the window then
builds ``panel.config()`` and decides whether that resets the run (data, model) or applies from
the next step (optimizer).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.config import SETTINGS, Setting, TrainConfig
from reluviz.core.data import TARGET_FUNCTIONS
from reluviz.core.presets import load_preset, preset_names
from reluviz.core.session import MAX_LIVE_BATCH, MAX_LIVE_WIDTH
from reluviz.gui.input_guard import guard_wheel, no_wheel
from reluviz.gui.spin_boxes import FloatSpinBox, IntSpinBox, LrSpinBox, parse_number, shown_number

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 0)  # updates per frame; 0 = as fast as possible
LR_LOG_MIN, LR_LOG_MAX, LR_TICKS = -5.0, 1.0, 600
SPIN_INT_MAX = 2**31 - 1  # a QSpinBox holds 32-bit numbers: bigger settings show as this

#: The app's limits on top of the settings' ranges (validate's): minibatches of at most
#: ``MAX_LIVE_BATCH`` (see ``check_live_size``; ``update_enabled`` also keeps B <= N; batch size
#: 0 is the full-batch box) and ``MAX_LIVE_WIDTH`` units (both from ``reluviz.core.session``).
APP_RANGES = {"batch_size": (1, MAX_LIVE_BATCH), "width": (1, MAX_LIVE_WIDTH)}

#: Group boxes of the panel: title, object name, the setting groups they hold.
BOXES = (
    ("Data  (changes start a new run)", "dataGroup", ("data",)),
    ("Model  (changes start a new run)", "modelGroup", ("model",)),
    ("Optimizer  (applies from the next step)", "optimizerGroup", ("optimizer", "schedule", "minibatches")),
)
NOT_SHOWN = ("csv_path", "eps")  # csv_path: the "Load CSV..." button; eps: Adam's default is kept

#: Tooltips of the controls that are not settings.
PANEL_TIPS = {
    "full_batch": "Full-batch gradient descent: every step uses all N points (the gradient is exact, "
                  "the per-point votes cancel at the optimum).",
    "speed": "Updates per drawn frame. 1 shows every single SGD step; 'max' trains as fast as the "
             "machine can and draws the newest state about 60 times a second.",
}


def spin_range(field: str) -> tuple[float, float]:
    """The range of ``field``'s spin box: the setting's (open bounds one decimal inside), within
    what a spin box holds and ``APP_RANGES``."""
    if field in APP_RANGES:
        return APP_RANGES[field]
    s = SETTINGS[field]
    lo, hi = s.panel_range()
    return (lo, min(hi, SPIN_INT_MAX)) if s.decimals == 0 else (lo, hi)


class ControlPanel(QtWidgets.QWidget):
    """Controls for every setting. Signals: ``edited(field)``, ``presetChosen(name)``,
    ``speedChanged(int)``, ``csvRequested()``, ``rejected(field, message)`` (a typed value out of
    range, refused: the message names the allowed range).

    A setting another one bounds (B <= N) is lowered while its bound is lower and goes back up
    when the bound allows; ``take_adjustments()`` says what was changed so (for the notice)."""

    edited = QtCore.Signal(str)
    rejected = QtCore.Signal(str, str)
    presetChosen = QtCore.Signal(str)
    speedChanged = QtCore.Signal(int)
    csvRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.widgets: dict[str, QtWidgets.QWidget] = {}
        self._labels: dict[str, QtWidgets.QLabel] = {}
        self._csv_path = ""
        self._updating = False
        self._batch_wanted: int | None = None  # B before N lowered it (it goes back when N allows)
        self._adjustments: list[str] = []
        self._preset_titles: dict[int, str] = {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self._preset_group())
        for title, name, groups in BOXES:
            layout.addWidget(self._settings_group(title, name, groups))
        self.playback_group = QtWidgets.QGroupBox("Playback")
        self.playback_group.setObjectName("playbackGroup")
        layout.addWidget(self.playback_group)
        layout.addStretch(1)
        self._build_playback()
        self._connect()
        self.update_enabled()
        guard_wheel(self)
        for field, w in self.widgets.items():  # a change of these discards the run: never by the wheel
            if field in SETTINGS and SETTINGS[field].resets:
                no_wheel(w)
        no_wheel(self.preset_combo)

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

    def _add(self, form: QtWidgets.QFormLayout, field: str, label: str, widget: QtWidgets.QWidget,
             tip: str | None = None, row: QtWidgets.QWidget | None = None) -> None:
        """Add ``widget`` for ``field`` (inside ``row`` if given) with its label and tooltip."""
        widget.setObjectName(field)
        tip = SETTINGS[field].tip if tip is None else tip
        widget.setToolTip(tip)
        lab = QtWidgets.QLabel(label)
        lab.setToolTip(tip)
        lab.setBuddy(widget)
        form.addRow(lab, row or widget)
        self.widgets[field] = widget
        self._labels[field] = lab

    def _add_setting(self, form: QtWidgets.QFormLayout, field: str) -> None:
        """The control of setting ``field``, all of it read from its ``Setting``."""
        s = SETTINGS[field]
        label = ("  " if s.applies_when is not None and s.applies_when.field == "schedule" else "") + s.label
        if s.choices:
            widget = self._combo(s.choices, s.choice_labels or None)
        else:
            widget = self._spin(field, s)
        if field == "lr":
            self._add(form, field, label, widget, row=self._lr_row(widget, s))
        else:
            self._add(form, field, label, widget)

    @staticmethod
    def _combo(items, labels=None) -> QtWidgets.QComboBox:
        c = QtWidgets.QComboBox()
        for i, item in enumerate(items):
            c.addItem(labels[i] if labels else item, item)
        return c

    @staticmethod
    def _spin(field: str, s: Setting) -> QtWidgets.QAbstractSpinBox:
        lo, hi = spin_range(field)
        if s.decimals == 0:
            box = IntSpinBox()
            box.setAccelerated(True)
        elif s.log:  # rates: shown as 0.02 or 1e-05, stepped by their last digit
            box = LrSpinBox()
            box.setDecimals(s.decimals)
            box.setStepType(QtWidgets.QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            box.setMinimumWidth(80)
        else:
            box = FloatSpinBox()
            box.setDecimals(s.decimals)
        if s.zero and lo == 0:  # what 0 means, where it is set (e.g. t_max 0: the run length)
            box.setSpecialValueText(f"0 = {s.zero}")
        box.setRange(lo, hi)
        box.setSingleStep(s.step)
        box.setKeyboardTracking(False)
        return box

    def _lr_row(self, spin: QtWidgets.QWidget, s: Setting) -> QtWidgets.QWidget:
        """The learning rate: a logarithmic slider beside its spin box."""
        row = QtWidgets.QWidget()
        h = QtWidgets.QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.lr_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.lr_slider.setObjectName("lrSlider")
        self.lr_slider.setRange(0, LR_TICKS)
        self.lr_slider.setToolTip(s.tip + f"\nThe slider is logarithmic: from 1e{LR_LOG_MIN:.0f} to {10**LR_LOG_MAX:g}.")
        h.addWidget(self.lr_slider, 1)
        h.addWidget(spin)
        return row

    def _settings_group(self, title: str, name: str, groups: tuple[str, ...]) -> QtWidgets.QGroupBox:
        """A group box with a control for every shown setting of ``groups``, in field order."""
        box, form = self._form(title, name)
        for field, s in SETTINGS.items():
            if s.group not in groups or field in NOT_SHOWN:
                continue
            if field == "batch_size":
                full = QtWidgets.QCheckBox("full batch (gradient descent)")
                self._add(form, "full_batch", "", full, tip=PANEL_TIPS["full_batch"])
            self._add_setting(form, field)
            if field == "target":
                self._target_extras(form)
        return box

    def _target_extras(self, form: QtWidgets.QFormLayout) -> None:
        """Each target's description as its item's tooltip, and the CSV button row below."""
        combo = self.widgets["target"]
        for i in range(combo.count()):
            target = combo.itemData(i)
            if target in TARGET_FUNCTIONS:
                combo.setItemData(i, TARGET_FUNCTIONS[target][1], QtCore.Qt.ItemDataRole.ToolTipRole)
        self.csv_button = QtWidgets.QPushButton("Load CSV...")
        self.csv_button.setObjectName("loadCsv")
        self.csv_button.setToolTip("Fit your own data: a text file of x,y rows (a header line is allowed).")
        self.csv_label = QtWidgets.QLabel("")
        self.csv_label.setObjectName("csvLabel")
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.csv_button)
        row.addWidget(self.csv_label, 1)
        form.addRow("", row)

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

    def _build_playback(self) -> None:
        form = QtWidgets.QFormLayout(self.playback_group)
        form.setContentsMargins(8, 6, 8, 6)
        self.speed_combo = self._combo(SPEEDS, [str(s) if s else "max" for s in SPEEDS])
        self.speed_combo.setObjectName("speed")
        self.speed_combo.setToolTip(PANEL_TIPS["speed"])
        form.addRow("steps / frame", self.speed_combo)
        for field, s in SETTINGS.items():
            if s.group == "run":
                self._add_setting(form, field)
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
                w.rejected.connect(lambda text, f=field: self.rejected.emit(f, self.range_message(f, text)))
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
        if field == "batch_size":
            self._batch_wanted = None  # the user set B: that is the value wanted now
        self.update_enabled()
        self.edited.emit(field)

    def range_message(self, field: str, typed: str) -> str:
        """Why the value ``typed`` into ``field``'s box was refused, naming the allowed range."""
        s, box = SETTINGS[field], self.widgets[field]
        lo, hi = box.minimum(), box.maximum()
        value = parse_number(typed)
        kept = box.textFromValue(box.value()) if box.value() != lo or not box.specialValueText() else \
            box.specialValueText()
        tail = f"'{typed}' was not applied; it stays {kept}."
        if field == "batch_size" and value is not None and value > hi and hi < MAX_LIVE_BATCH:
            return (f"Batch size B must be at most the number of points N = {int(hi):,}: tick 'full batch' to use "
                    f"every point. {tail}")
        what = "a whole number" if s.decimals == 0 else "a number"
        setting_lo, setting_hi = s.panel_range()
        app = " in the app (`reluviz train` allows more)" if setting_hi is not None and hi < setting_hi else ""
        zero = f" (0 = {s.zero})" if s.zero and lo == 0 else ""
        name = s.label[:1].upper() + s.label[1:]
        return f"{name} takes {what} from {shown_number(lo)} to {shown_number(hi)}{zero}{app}. {tail}"

    def take_adjustments(self) -> list[str]:
        """What the panel changed by itself since last asked (e.g. B lowered to N), in words."""
        out, self._adjustments = self._adjustments, []
        return out

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

    def set_preset(self, name: str | None, description: str = "", changes: list[str] | None = None) -> None:
        """Show ``name`` as the current preset (None/'' = custom) and its description; with
        ``changes`` (what the settings changed from it) the title says "(modified)" and the
        description lists them."""
        combo = self.preset_combo
        combo.blockSignals(True)
        for j, title in self._preset_titles.items():  # (a title marked earlier)
            combo.setItemText(j, title)
        self._preset_titles.clear()
        i = max(combo.findData(name or ""), 0)
        combo.setCurrentIndex(i)
        if changes and i > 0:
            self._preset_titles[i] = combo.itemText(i)
            combo.setItemText(i, combo.itemText(i) + " (modified)")
        combo.blockSignals(False)
        if changes and i > 0:
            description += "\nModified: " + "; ".join(changes) + "."
        self.description.setText(description)
        self.description.setVisible(bool(description))

    def set_csv_path(self, path: str) -> None:
        self._csv_path = path
        self.csv_label.setText(Path(path).name if path else "")
        self.csv_label.setToolTip(path)

    def set_config(self, cfg: TrainConfig) -> None:
        """Show ``cfg`` in the controls (emits nothing)."""
        if not (self._batch_wanted is not None and cfg.batch_size == cfg.n_train < self._batch_wanted):
            self._batch_wanted = None  # (unless cfg is the state where N holds B down)
        self._updating = True
        try:
            self.widgets["batch_size"].setMaximum(spin_range("batch_size")[1])  # (update_enabled sets the real bound)
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

    def _bound_batch(self, current: dict) -> None:
        """B <= N: lower B while N is below it, and bring it back when N allows (said in
        ``take_adjustments``)."""
        box = self.widgets["batch_size"]
        batch_hi = spin_range("batch_size")[1]
        if current["target"] != "csv" and self.widgets["target"].count():
            batch_hi = max(1, min(current["n_train"], batch_hi))
        wanted = self._batch_wanted if self._batch_wanted is not None else box.value()
        was, updating = box.value(), self._updating
        self._updating = True
        try:
            box.setMaximum(batch_hi)
            box.setValue(min(wanted, batch_hi))
        finally:
            self._updating = updating
        full = self.widgets["full_batch"].isChecked()
        if wanted > batch_hi:
            if self._batch_wanted is None and not full:
                self._adjustments.append(f"batch size B lowered from {wanted:,} to {batch_hi:,} (B is at most N); "
                                         f"it goes back to {wanted:,} when N allows")
            self._batch_wanted = wanted
        elif self._batch_wanted is not None:
            if box.value() != was and not full:
                self._adjustments.append(f"batch size B back to {wanted:,}")
            self._batch_wanted = None

    def config(self, base: TrainConfig | None = None) -> TrainConfig:
        """A validated config from the controls over ``base`` (``ConfigError`` if invalid)."""
        return (base or TrainConfig()).updated(self.values())

    def update_enabled(self) -> None:
        """Disable controls that mean nothing for the current choices (each setting's ``applies_when``)."""
        w = self.widgets
        current = self.values()
        for field, s in SETTINGS.items():
            if field in w and s.applies_when is not None:
                on = s.applies(current)
                w[field].setEnabled(on)
                self._labels[field].setEnabled(on)
        self._bound_batch(current)
        model = w["target"].model()
        i = w["target"].findData("csv")
        item = model.item(i) if hasattr(model, "item") else None
        if item is not None:
            item.setEnabled(bool(self._csv_path))

"""Elbow diagnostics: where the elbows -b/w sit, the Cauchy law of the gaussian init, dead units.

The drawing is ``reluviz.plots.elbows_canvas.ElbowsCanvas`` (the exporter draws the same canvas):
the elbow histogram by unit status with the expected counts at initialisation, and every unit's
elbow over the recorded steps. This widget adds the controls: the units as a list at the right.
Clicking a marker or a list entry selects a unit: the view emits ``unitSelected(j)`` (``-1``:
none) so the window can highlight it everywhere, and the canvas follows that unit's elbow.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from reluviz.core.config import TrainConfig
from reluviz.core.frame import Frame, TrailSpec
from reluviz.gui.views.base import LectureView, big_font
from reluviz.plots.elbows_canvas import TRAIL, ElbowsCanvas


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
        self._list_texts: list[str] = []
        self._list_key = None
        self.message = QtWidgets.QLabel("")  # (why there is nothing to draw, when the plots are hidden)
        self.message.setObjectName("elbowMessage")
        self.message.setWordWrap(True)
        big_font(self.message, 3)
        self.message.hide()
        self.body.addWidget(self.message)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.canvas = ElbowsCanvas()
        self.canvas.setMinimumHeight(380)
        self.canvas.unitClicked.connect(self._on_marker)
        split.addWidget(self.canvas)
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
        self.side = side
        # the canvas's parts, by the names the window and the tests use
        self.summary = self.canvas.caption
        self.hist = self.canvas.hist
        self.trail_plot = self.canvas.trail_plot
        self.hist_item = self.canvas.hist_item
        self.trail_item = self.canvas.trail_item

    @property
    def counts(self) -> dict[str, int]:
        return self.canvas.counts

    @property
    def bin_counts(self) -> dict[str, np.ndarray]:
        return self.canvas.bin_counts

    @property
    def trail(self):
        return self.canvas.trail

    # ------------------------------------------------------------------ selection
    def select_unit(self, unit: int | None) -> None:
        """Highlight ``unit`` (None/-1 clears) without emitting ``unitSelected``."""
        super().select_unit(unit)
        self._sync_list()
        self.canvas.select_unit(self.selected_unit)

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
        return TRAIL

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        layout = frame.snapshot.layout
        if self.selected_unit is not None and (layout.model != "relu" or self.selected_unit >= layout.width):
            self.selected_unit = None
        self.canvas.selected_unit = self.selected_unit
        self.canvas.show_frame(frame)
        self.side.setVisible(not self.canvas.message)
        self.split.setVisible(not layout.general)
        self.message.setText(self.canvas.message if layout.general else "")
        self.message.setVisible(layout.general)
        if not self.canvas.message:
            self._update_list(layout.width)

    def _update_list(self, h: int) -> None:
        if self.unit_list.count() != h or self._list_key != self.canvas._frame_key:
            self._list_key = self.canvas._frame_key
            self.unit_list.clear()
            self._list_texts = [""] * h
            for j in range(h):
                self.unit_list.addItem(QtWidgets.QListWidgetItem(f"unit {j}"))
            self._sync_list()
        grey = QtGui.QBrush(QtGui.QColor(130, 130, 130))
        black = QtGui.QBrush(QtGui.QColor(20, 20, 20))
        for j, (text, tip, kind) in enumerate(self.canvas.unit_rows):
            if text != self._list_texts[j]:
                item = self.unit_list.item(j)
                item.setText(text)
                item.setToolTip(tip)
                item.setForeground(grey if kind == "dead" else black)
                self._list_texts[j] = text

    def trail_elbows(self) -> np.ndarray:
        """The selected unit's elbows over the recorded steps, oldest first (for ``FitPlot.set_elbow_trail``)."""
        return self.canvas.trail_elbows()

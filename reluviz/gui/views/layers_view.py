"""Layers: each hidden layer's units as functions of x, so students see composition fold and bend.

Top: one plot per hidden layer k with its units h_k,j(x) (dead or saturated ones grey, dotted) and
the kinks of f that layer makes marked on its axis. Bottom: f(x) with every kink coloured by the
layer whose unit makes it, and the count of linear regions against the units (notes, Figure 8).
Everything drawn comes from the frame's ``Structure`` (computed in the training thread).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from reluviz.core.frame import Frame
from reluviz.gui.views.base import LectureView
from reluviz.plots import theme
from reluviz.plots.lecture_layers import LayersPlot


class LayersView(LectureView):
    view_name = "layers"
    title = "Layers"
    explanation = (
        "<b>Depth: every layer bends the pieces of the layer below.</b> Layer 1's units are elbows "
        "max(0, w x + b) of x, as in a single hidden layer. A unit of layer 2 adds up layer-1 units, a "
        "piecewise-linear function of x, and cuts it where it crosses 0: every crossing is a new kink of f, at "
        "an x that no single elbow chose. So f can have more linear pieces than the network has units (notes, "
        "Figure 8). Triangles on each layer's axis mark the kinks of f that layer makes; grey dotted units are "
        "dead (zero on every training point) or, for tanh and sigmoid, saturated: far out on the flat tails of "
        "their S-curve, where the derivative, and with it the gradient passed back, is almost zero.")

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(theme.BACKGROUND)
        self.plots.setObjectName("layersPlots")
        self.layers_plot = LayersPlot(self.plots)
        self.body.addWidget(self.plots, 1)
        self.layers_plot.message("")

    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        st = frame.structure
        if st is None:
            self.layers_plot.message(f"The {frame.snapshot.layout.model} model has no hidden layers: choose "
                                     "model = relu to see a network's units.")
        elif st.kinks.layers is None:
            self.layers_plot.message(f"{st.depth} × {st.width:,} units are too many to draw one by one here; "
                                     "the Fit tab shows f and its kinks.")
        else:
            self.layers_plot.show(st, frame.dataset)

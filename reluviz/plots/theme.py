"""Colours, pens and fonts, chosen to read well on a projector (white ground, thick lines)."""

from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui

BACKGROUND = "w"
FOREGROUND = "#222222"
POSITIVE = (31, 119, 180)     # units with v_j > 0 (blue)
NEGATIVE = (214, 39, 40)      # units with v_j < 0 (red)
DEAD = (170, 170, 170)        # units active on no training point
PREDICTION = (0, 0, 0)
TRUTH = (44, 160, 44)
TRAIN_POINTS = (90, 90, 90)
TEST_POINTS = (160, 200, 160)
BATCH = (255, 127, 14)        # the current minibatch
SELECTED = (148, 103, 189)    # a unit the user clicked
BATCH_LOSS = (180, 180, 180)
TRAIN_LOSS = (31, 119, 180)
TEST_LOSS = (214, 39, 40)
VAL_LOSS = (148, 103, 189)    # the validation loss (purple) ...
VAL_POINTS = (190, 160, 222)  # ... and the validation points
OBJECTIVE = (70, 70, 70)      # the objective: training MSE plus the ridge term (dotted)
BEST = (98, 40, 150)          # the step with the best validation loss (early stopping)
LR = (120, 120, 120)
GHOST = (120, 120, 120)
CURSOR = (60, 60, 60)
#: kinks and units of hidden layers 1..4 of a deep net (none of the colours above)
LAYER_COLORS = ((0, 150, 136), (230, 97, 1), (94, 60, 153), (196, 40, 120))
PIECEWISE_CONSTANT = (200, 0, 0)  # Figure 4's piecewise-constant fit (red in the notes)

FONT_POINT_SIZE = 11


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options (call before creating plot widgets)."""
    pg.setConfigOptions(background=BACKGROUND, foreground=FOREGROUND, antialias=True)


def pen(color, width: float = 1.0, style=None, alpha: int = 255) -> QtGui.QPen:
    p = pg.mkPen(color=(*color[:3], alpha), width=width)
    if style == "dash":
        p.setStyle(QtCore.Qt.PenStyle.DashLine)
    elif style == "dot":
        p.setStyle(QtCore.Qt.PenStyle.DotLine)
    p.setCosmetic(True)
    return p


def brush(color, alpha: int = 255) -> QtGui.QBrush:
    return pg.mkBrush((*color[:3], alpha))


def style_axes(plot: pg.PlotItem, font_size: int = FONT_POINT_SIZE) -> None:
    font = QtGui.QFont()
    font.setPointSize(font_size)
    for name in ("left", "bottom", "right"):
        axis = plot.getAxis(name)
        axis.setStyle(tickFont=font)
        axis.setTextPen(FOREGROUND)
        axis.label.setFont(font)
        axis.enableAutoSIPrefix(False)  # (x from 0.2 to 0.5 was labelled 200-500 with "x (x0.001)")

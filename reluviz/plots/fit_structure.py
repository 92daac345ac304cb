"""What the fit plot adds for a network's shape: kink markers coloured by layer, the count of linear
regions against units, per-layer dead / saturated units, and Figure 4's piecewise-constant fit.

``StructureOverlay`` draws a ``reluviz.core.structure.Structure`` (computed by the core, carried by
the frame) on a ``FitPlot``'s plot item; it computes nothing itself. ``structure_text`` is the
sentence it shows (also used by the Layers view).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from reluviz.core.structure import Structure
from reluviz.plots import theme
from reluviz.plots.fast_items import set_curve

KINK_SIZE = 10
DERIVATIVE = {"relu": "relu'", "leaky_relu": "leaky'", "tanh": "tanh'", "sigmoid": "σ'"}


def per_layer(values) -> str:
    """'a · b · c' for one value per layer."""
    return " · ".join(values)


def structure_text(st: Structure, constant: bool = False) -> str:
    """The overlay's text (HTML): regions against units (or saturation for tanh/sigmoid), per-layer
    dead units of a deep net, and with ``constant`` Figure 4's two errors."""
    units = f"{st.units}" if st.depth == 1 else f"{st.units} = {st.depth} × {st.width}"
    h = st.width
    lines = []
    if st.piecewise:
        lines.append(f"linear regions of f on the data: <b>{st.regions}</b> &nbsp;(hidden units: {units})")
        if st.depth > 1 and st.stats.dead.any():
            lines.append("dead units per layer: " + per_layer(f"{n}/{h}" for n in st.stats.dead_counts()))
    else:
        lines.append(f"{st.activation} units: f is smooth, no kinks &nbsp;(hidden units: {units})")
        lines.append("saturated units per layer: " + per_layer(f"{n}/{h}" for n in st.stats.saturated_counts()))
    if st.depth > 1 or not st.piecewise:
        lines.append(f"mean |{DERIVATIVE[st.activation]}| per layer: "
                     + per_layer(f"{d:.2g}" for d in st.stats.mean_derivative))
    fit = st.constant_fit
    if constant:
        red = "#%02x%02x%02x" % theme.PIECEWISE_CONSTANT
        if fit is None:
            lines.append(f"<span style='color:{red}'>Figure 4's piecewise-constant fit needs linear pieces "
                         f"(relu or leaky relu units)</span>")
        else:
            net = f"{st.train_loss:.3g}"
            lines.append(f"training MSE on the same {fit.pieces} pieces: <span style='color:{red}'>constant "
                         f"{fit.mse:.3g}</span> &nbsp;vs&nbsp; <b>linear (the network) {net}</b>")
    return "<br>".join(lines)


def contribution_lines(st: Structure, contrib: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The last layer's contributions (H, M) at the breakpoints as one NaN-ended line per unit: xs and
    ys (H, M + 1), and which units are dead or saturated (H,)."""
    lines = np.concatenate([contrib, np.full((len(contrib), 1), np.nan)], axis=1)
    return np.broadcast_to(np.r_[st.kinks.xs, np.nan], lines.shape), lines, st.stats.dead[-1] | st.stats.saturated[-1]


class StructureOverlay:
    """Kink markers (one scatter item per layer), the text of ``structure_text`` in the bottom right
    corner, and the piecewise-constant steps. ``legend_entries`` says what the fit plot's legend
    lists for them: a kink entry per layer drawn, and the steps when they are shown."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.kinks = []
        for color in theme.LAYER_COLORS:
            item = pg.ScatterPlotItem(size=KINK_SIZE, symbol="o", pen=pg.mkPen("w", width=1.0),
                                      brush=theme.brush(color))
            item.setZValue(5)
            plot.addItem(item)
            item.hide()
            self.kinks.append(item)
        self.constant = pg.PlotCurveItem(pen=theme.pen(theme.PIECEWISE_CONSTANT, 2.5), connect="finite")
        self.constant.setZValue(-0.5)  # (under the network's curve)
        plot.addItem(self.constant)
        self.constant.hide()
        self.info = pg.TextItem("", color=theme.FOREGROUND, anchor=(1, 1), fill=theme.brush((255, 255, 255), 215))
        self.info.setZValue(40)
        plot.addItem(self.info, ignoreBounds=True)
        self.info.hide()
        self.kink_layers = 0  # layers whose kinks are drawn (and listed in the legend)
        self.constant_shown = False
        self._text = ""
        self.text_points = 11.0
        self.show_kinks = True
        self.show_constant = False

    def legend_entries(self) -> list[tuple[pg.GraphicsObject, str]]:
        entries = [(self.kinks[k], f"kink from layer {k + 1}") for k in range(self.kink_layers)]
        return entries + ([(self.constant, "piecewise constant (Fig. 4)")] if self.constant_shown else [])

    # ------------------------------------------------------------------ drawing
    def show(self, st: Structure | None, kink_layers: bool) -> None:
        """Draw ``st`` (None: nothing); ``kink_layers``: mark the kinks on the curve by layer (the
        depth-1 relu net marks its elbows under the axis instead)."""
        if st is None:
            self.clear()
            return
        draw_kinks = kink_layers and st.piecewise and self.show_kinks
        k = st.kinks
        for layer, item in enumerate(self.kinks, start=1):
            if draw_kinks and layer <= st.depth:
                sel = k.layer == layer
                item.setData(k.x[sel], k.y[sel])
                item.setVisible(bool(np.any(sel)))
            elif item.isVisible():
                item.setData([], [])
                item.hide()
        fit = st.constant_fit if self.show_constant else None
        if fit is not None:
            set_curve(self.constant, *fit.polyline(), connect="finite")
        elif self.constant.isVisible():
            set_curve(self.constant, [], [])
        self.kink_layers, self.constant_shown = (st.depth if draw_kinks else 0), fit is not None
        self._set_text(structure_text(st, self.show_constant))

    def set_text_points(self, points: float) -> None:
        """The note's font size (an export scales it with the frame)."""
        if points != self.text_points:
            self.text_points = points
            text, self._text = self._text, None
            self._set_text(text)

    def _set_text(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.info.setHtml(f"<div style='font-size:{self.text_points:g}pt'>{text}</div>")
        self.info.setVisible(bool(text))
        self.place()

    def place(self) -> None:
        """Keep the text in the bottom right corner of the visible range, above the elbow markers."""
        (x0, x1), (y0, y1) = self.plot.vb.viewRange()
        self.info.setPos(x1 - 0.01 * (x1 - x0), y0 + 0.07 * (y1 - y0))

    def clear(self) -> None:
        for item in (*self.kinks, self.constant):
            if item.isVisible():
                item.setData([], [])
                item.hide()
        self.kink_layers, self.constant_shown = 0, False
        self._text = ""
        self.info.setHtml("")
        self.info.hide()

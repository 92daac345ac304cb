"""Room for a legend drawn over the top of a plot: how high the view must reach so the data stays
below it, whatever the plot's size in pixels.

The legends sit in the top band of their plots (wide and short, translucent white). A fixed
headroom in data units (a quarter of the data's span, half a decade) is enough at 1280x720 but
not in an 800x450 export or a small window, where the legend, a fixed number of pixels tall,
then covers the highest points and curves.
"""

from __future__ import annotations

MAX_FRACTION = 0.6  # a legend taller than this share of the view covers data: the data must still show
GAP_PX = 6.0        # between the legend's lower edge and the highest data
ROW_GAP_PX = 8.0    # between one entry's label and the next entry's sample in a legend row


def top_for_legend(bottom: float, data_top: float, legend_px: float, view_px: float, at_least: float) -> float:
    """The view's upper limit (data units) that keeps ``data_top`` below a legend ``legend_px``
    pixels tall at the top of a view ``view_px`` pixels tall whose lower limit is ``bottom``;
    never lower than ``at_least`` (the usual headroom). Unknown sizes (0) give ``at_least``."""
    if view_px <= 0 or legend_px <= 0 or data_top <= bottom:
        return at_least
    frac = min((legend_px + GAP_PX) / view_px, MAX_FRACTION)
    # (top - data_top) >= frac * (top - bottom): the band above the data holds the legend
    return max((data_top - frac * bottom) / (1.0 - frac), at_least)


def legend_height(legend) -> float:
    """The pixels a pyqtgraph ``LegendItem`` covers from the top of its view box (offset included)."""
    offset = legend.offset or (0, 0)
    y = offset[1] if offset[1] >= 0 else 0
    return float(legend.boundingRect().height() + y)


def lay_out_legend(legend, cols: int, margins: tuple[float, float, float, float] | None = None) -> None:
    """A pyqtgraph ``LegendItem``'s entries in ``cols`` columns, row by row, on a fresh grid.
    (pyqtgraph's own relayout starts at the last row its grid ever had, so after entries are
    removed or the column count changes they pile up below empty rows.) ``margins`` (left, top,
    right, bottom pixels) replace the style's (about 9 px a side: a legend row without a frame
    needs none)."""
    from pyqtgraph.Qt import QtCore, QtWidgets

    old = legend.layout
    for i in reversed(range(old.count())):  # (by index: removeItem of an item the grid lacks warns
        old.removeAt(i)                     # "QGraphicsGridLayout::removeAt: invalid index -1")
    grid = QtWidgets.QGraphicsGridLayout()
    grid.setVerticalSpacing(old.verticalSpacing())
    grid.setHorizontalSpacing(old.horizontalSpacing())
    if margins is not None:
        grid.setContentsMargins(*margins)
    for i, (sample, label) in enumerate(legend.items):
        grid.addItem(sample, i // cols, 2 * (i % cols), alignment=QtCore.Qt.AlignmentFlag.AlignVCenter)
        grid.addItem(label, i // cols, 2 * (i % cols) + 1)
    if margins is not None:  # (a legend row: each label as wide as its text, not spread over the row, ...
        for _sample, label in legend.items:
            label.setMaximumWidth(label.itemRect().width() + 1)
        for c in range(cols - 1):  # ... and a gap after it (within the 2 spacings a row allows an entry)
            grid.setColumnSpacing(2 * c + 1, ROW_GAP_PX)
    legend.setLayout(grid)  # (deletes the old, now empty grid)
    legend.layout = grid
    legend.columnCount, legend.rowCount = cols, max(1, -(-len(legend.items) // cols))
    legend.updateSize()


def list_in_legend(legend, entries: list, cols: int = 1) -> None:
    """Make ``legend`` list exactly ``entries`` ((item, label) pairs, in order) in ``cols`` columns."""
    if [(s.item, lab.text) for s, lab in legend.items] == [(item, text) for item, text in entries]:
        return
    legend.clear()
    for item, text in entries:
        legend.addItem(item, text)
    lay_out_legend(legend, cols)

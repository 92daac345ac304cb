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

"""pyqtgraph items that draw a training snapshot; no window, no thread.

The app and the exporter both draw through ``TrainingView``, so a frame on screen and a frame in
an exported GIF are the same pixels.
"""

from reluviz.plots.fit_plot import FitPlot
from reluviz.plots.loss_plot import LossPlot
from reluviz.plots.training_view import TrainingView

__all__ = ["FitPlot", "LossPlot", "TrainingView"]

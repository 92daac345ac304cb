"""reluviz: watch a ReLU network learn a 1-D function.

``reluviz.core`` is pure NumPy (data, model, gradients, optimizers, trainer, history);
``reluviz.plots`` draws a snapshot with pyqtgraph; ``reluviz.gui`` is the Qt app;
``reluviz.export`` renders frames to PNG/GIF/MP4 without a window.
"""

__version__ = "0.1.0"

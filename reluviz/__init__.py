"""reluviz: watch a ReLU network learn a 1-D function.

``reluviz.core`` is pure NumPy (data, model, gradients, optimizers, trainer, history);
``reluviz.plots`` draws a snapshot with pyqtgraph; ``reluviz.gui`` is the Qt app;
``reluviz.export`` renders frames to PNG/GIF/MP4 without a window.
"""

import os

# The matrices here are tiny (at most a few hundred rows); BLAS threads only add latency, and on a
# 2-core machine a threaded OpenBLAS solve stalled for 0.5 s while the training thread held the
# other core. Set before NumPy loads; a value the user exported wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"

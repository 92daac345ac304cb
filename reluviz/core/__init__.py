"""The training core: pure NumPy, no Qt (``tests/test_core_no_qt.py`` enforces it).

Typical use::

    from reluviz.core import Trainer, History
    from reluviz.core.presets import load_preset
    cfg = load_preset("notebook").config
    trainer = Trainer(cfg)
    history = History.for_trainer(trainer)
    trainer.run(1000, on_step=history.record)
    snap = history.latest()
"""

from reluviz.core.config import ConfigError, TrainConfig
from reluviz.core.data import Dataset, make_dataset
from reluviz.core.history import History
from reluviz.core.snapshot import Snapshot
from reluviz.core.trainer import Divergence, Trainer

__all__ = [
    "ConfigError",
    "Dataset",
    "Divergence",
    "History",
    "Snapshot",
    "TrainConfig",
    "Trainer",
    "make_dataset",
]

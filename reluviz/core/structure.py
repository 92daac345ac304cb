"""What a frame shows about the network's shape: its kinks and linear regions, each layer's dead
or saturated units, and Figure 4's piecewise-constant fit on the same pieces (for relu nets).

Computed by ``make_frame`` (in the app's training thread), so views only draw it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reluviz.core.data import Dataset
from reluviz.core.kinks import Kinks, drawing_range, find_kinks
from reluviz.core.layer_stats import LayerStats, layer_stats
from reluviz.core.metrics import mean_loss
from reluviz.core.piecewise_constant import ConstantFit, piecewise_constant_fit
from reluviz.core.snapshot import Snapshot


@dataclass(frozen=True, eq=False)
class Structure:
    """The network of one frame: ``depth`` layers of ``width`` units with ``activation``.

    ``kinks``: f and its layers over the fit plot's range (``drawing_range``) and the kinks of f.
    ``regions``: linear regions of f on the training data's [x_min, x_max] (0 for tanh/sigmoid).
    ``stats``: dead / saturated units and mean |act'| per layer on the training points.
    ``constant_fit``: the least-squares piecewise-constant fit on the same ``regions`` pieces
    (None for tanh/sigmoid nets); ``train_loss``: the network's training MSE, to compare with it."""

    depth: int
    width: int
    activation: str
    kinks: Kinks
    regions: int
    stats: LayerStats
    constant_fit: ConstantFit | None
    train_loss: float = float("nan")

    @property
    def units(self) -> int:
        """Hidden units in all layers."""
        return self.depth * self.width

    @property
    def piecewise(self) -> bool:
        return self.kinks.piecewise


def network_structure(snap: Snapshot, dataset: Dataset, run: int = 0, train_loss: float | None = None
                      ) -> Structure | None:
    """The ``Structure`` of run ``run`` of ``snap`` on ``dataset`` (None for constant/linear models);
    ``train_loss``: the network's training MSE if already known."""
    layout = snap.layout
    if layout.model != "relu":
        return None
    params = snap.params[run]
    x_min, x_max = dataset.x_range
    kinks = find_kinks(layout, params, *drawing_range((x_min, x_max)))
    counts = None if layout.general else snap.active_counts(dataset.x_train, run)
    stats = layer_stats(layout, params, dataset.x_train, counts)
    fit = None
    if kinks.piecewise:
        edges = [x_min, *kinks.inside(x_min, x_max), x_max]
        fit = piecewise_constant_fit(edges, dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test)
    if train_loss is None:
        train_loss = mean_loss(snap, dataset.x_train, dataset.y_train, run)
    return Structure(layout.depth, layout.width, layout.activation, kinks, kinks.regions(x_min, x_max), stats, fit,
                     float(train_loss))

"""The lecture views' common protocol and helpers: explanation header, config, reading the history.

Protocol (what the main window relies on)
-----------------------------------------
* ``view_name``: the preset ``"view"`` key it answers to (``dance``, ``votes``, ``elbows``, ``bands``).
* ``title``: the tab title.  ``explanation``: one paragraph shown at the top of the view.
* ``show_state(snapshot, history, dataset, config=None)``: draw the state on screen. Called on
  every drawn frame while the view is visible, in the GUI thread, with the session lock held: it
  takes a few milliseconds, computes through ``reluviz.core`` only, and keeps no reference to the
  history's arrays (it copies the few rows it needs). ``config`` is the run's ``TrainConfig``; when
  omitted it is read from the history (a ``HistoryChain`` knows the config of each segment) or the
  last one given is kept.
* ``set_compare(overrides)``: the preset's ghost settings (used by the dance view; others ignore).
* ``select_unit(j)``: highlight hidden unit ``j`` (``None`` or -1 clears) without emitting signals.
* ``shutdown()``: cancel and wait for background work; call before the window closes.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from reluviz.core.config import TrainConfig

EXPLANATION_POINT_SIZE = 13


class LectureView(QtWidgets.QWidget):
    """Base class: an explanation label on top, a body below (``self.body``, a QVBoxLayout)."""

    view_name = ""
    title = ""
    explanation = ""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.config: TrainConfig | None = None
        self.compare: dict = {}
        self.selected_unit: int | None = None
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        self.explanation_label = QtWidgets.QLabel(self.explanation)
        self.explanation_label.setObjectName("explanation")
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        f = self.explanation_label.font()
        f.setPointSize(EXPLANATION_POINT_SIZE)
        self.explanation_label.setFont(f)
        self.explanation_label.setStyleSheet(
            "QLabel#explanation { background: #f4f6f9; color: #1c2a3a; border: 1px solid #d5dbe3; padding: 6px; }")
        self.explanation_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                             QtWidgets.QSizePolicy.Policy.Maximum)
        outer.addWidget(self.explanation_label)
        self.body = QtWidgets.QVBoxLayout()
        self.body.setSpacing(4)
        outer.addLayout(self.body, 1)

    # ------------------------------------------------------------------ protocol
    def show_state(self, snapshot, history, dataset, config: TrainConfig | None = None) -> None:
        raise NotImplementedError

    def set_compare(self, overrides: dict | None) -> None:
        self.compare = dict(overrides or {})

    def select_unit(self, unit: int | None) -> None:
        self.selected_unit = None if unit is None or unit < 0 else int(unit)

    def shutdown(self) -> None:
        """Stop background work (views with workers override this)."""

    # ------------------------------------------------------------------ helpers
    def resolve_config(self, snapshot, history, config: TrainConfig | None) -> TrainConfig | None:
        """The config to draw with: the given one, else the history segment's, else the last known."""
        if config is None and history is not None and hasattr(history, "segment_at"):
            try:
                config = history.segment_at(snapshot.step)[0]
            except (IndexError, AttributeError):
                config = None
        if config is not None:
            self.config = config
        return self.config


#: theta* of a relu net training its output layer solves a (H+1) x (H+1) system built over the N
#: points, about N (H+1)^2 + (H+1)^3 flops; a local optimum (the full network) solves P x P systems
#: (P trainable parameters) over and over, in steps that cannot be interrupted. Above these bounds
#: a view says so instead of freezing (or keeping a closing window waiting for its worker).
EXACT_OPTIMUM_MAX_FLOPS = 4e9
LOCAL_OPTIMUM_MAX_PARAMS = 1200


def optimum_too_big(layout, n_points: int, train: str) -> str:
    """Why theta* of this model cannot be found while drawing ('' when it can)."""
    if layout.model != "relu":
        return ""
    if train == "output":
        k = layout.width + 1
        if n_points * k * k + k**3 > EXACT_OPTIMUM_MAX_FLOPS:
            return (f"θ* of {layout.width:,} output weights over {n_points:,} points is too costly to draw live; "
                    "the landscape and distances are shown for narrower networks or fewer points.")
        return ""
    p = int(layout.mask(train).sum())
    if p > LOCAL_OPTIMUM_MAX_PARAMS or n_points * p * p > EXACT_OPTIMUM_MAX_FLOPS:
        return (f"A local optimum over {p:,} parameters and {n_points:,} points is too costly here "
                f"(at most {LOCAL_OPTIMUM_MAX_PARAMS:,} parameters); use a narrower network.")
    return ""


def big_font(widget: QtWidgets.QWidget, delta: int = 2) -> None:
    f = widget.font()
    f.setPointSize(f.pointSize() + delta)
    widget.setFont(f)


# ---------------------------------------------------------------------- reading the history cheaply
def _segments(history) -> list:
    """The core ``History`` objects behind ``history`` (a History or the app's HistoryChain)."""
    if hasattr(history, "segments"):
        return [h for _, h in history.segments if len(h)]
    return [history] if history is not None and len(history) else []


def history_rows(history, upto: int, dense: int = 300, sparse: int = 300, run: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Recorded steps up to ``upto`` and their parameters, thinned: (steps (K,), params (K, P)).

    The last ``dense`` rows are all kept; before them, only steps that are multiples of a power of
    two chosen so that at most about ``sparse`` remain. The same steps stay selected as the run
    grows (the stride only doubles), so values computed per step can be cached. Returns copies.
    """
    segs = _segments(history)
    if not segs:
        return np.empty(0, dtype=np.int64), np.empty((0, 0))
    steps_parts = [h.steps for h in segs]
    offsets = np.cumsum([0] + [len(s) for s in steps_parts])
    steps = np.concatenate(steps_parts) if len(steps_parts) > 1 else steps_parts[0]
    n = int(np.searchsorted(steps, upto, side="right"))
    if n == 0:
        n = 1
    head = max(0, n - dense)
    idx_tail = np.arange(head, n)
    if head > 0:
        span = max(int(steps[head - 1]) - int(steps[0]), 1)
        stride = 1
        while span // stride > sparse:
            stride *= 2
        old = steps[:head]
        idx_head = np.flatnonzero(old % stride == 0)
        if len(idx_head) > 2 * sparse:  # recorded steps are irregular: fall back to even spacing
            idx_head = np.unique(np.linspace(0, head - 1, sparse).astype(np.int64))
        if len(idx_head) == 0 or idx_head[0] != 0:
            idx_head = np.r_[0, idx_head]
        idx = np.concatenate([idx_head, idx_tail])
    else:
        idx = idx_tail
    seg_of = np.searchsorted(offsets, idx, side="right") - 1
    size = segs[0].layout.size
    params = np.empty((len(idx), size))
    for s in np.unique(seg_of):
        sel = seg_of == s
        params[sel] = segs[s].params[idx[sel] - offsets[s], run]
    return np.array(steps[idx], dtype=np.int64), params


def row_at_step(history, step: int, run: int = 0) -> np.ndarray | None:
    """Parameters (P,) recorded at ``step`` exactly (None if that step is not in the history)."""
    for h in _segments(history):
        st = h.steps
        i = int(np.searchsorted(st, step))
        if i < len(st) and st[i] == step:
            return np.array(h.params[i, run])
    return None


class StepCache:
    """Per-step values computed once: reused while the step's parameters are unchanged.

    ``get(steps, params, fn)`` returns ``fn(params_of_missing_rows)`` merged with cached rows; a
    row is reused only if its step *and* its parameters match (a resumed run records new
    parameters under old step numbers). The cache then holds exactly the requested rows.
    """

    def __init__(self):
        self.clear()

    def clear(self) -> None:
        self._steps = np.empty(0, dtype=np.int64)
        self._params = np.empty((0, 0))
        self._values = np.empty((0, 0))

    def get(self, steps: np.ndarray, params: np.ndarray, fn) -> np.ndarray:
        k = len(steps)
        hit = np.zeros(k, dtype=bool)
        src = np.zeros(k, dtype=np.int64)
        if len(self._steps) and self._params.shape[1:] == params.shape[1:]:
            pos = np.searchsorted(self._steps, steps)
            ok = pos < len(self._steps)
            pos_c = np.minimum(pos, len(self._steps) - 1)
            ok &= self._steps[pos_c] == steps
            if ok.any():
                same = np.all(self._params[pos_c[ok]] == params[ok], axis=1)
                okk = np.flatnonzero(ok)[same]
                hit[okk] = True
                src[okk] = pos_c[okk]
        miss = np.flatnonzero(~hit)
        fresh = np.asarray(fn(params[miss])) if len(miss) else None
        width = (fresh.shape[1] if fresh is not None and fresh.ndim == 2 else
                 (1 if fresh is not None else self._values.shape[1]))
        values = np.empty((k, width))
        if hit.any():
            values[hit] = self._values[src[hit]]
        if fresh is not None:
            values[miss] = fresh.reshape(len(miss), width)
        self._steps, self._params, self._values = np.array(steps), np.array(params), values
        return values

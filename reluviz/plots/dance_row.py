"""The side-by-side dance (lecture note 2, Figure 3) as the bottom row of the dance canvas.

``SideBySideRow`` holds the row's legend, a note and two ``DanceComparePlot``s (distance to theta*
and excess loss of the run as set and of its ghost) in a ``DanceCanvas``'s layout; it draws a
``reluviz.core.dance.DanceResult``, all of it or up to a step (an export reveals it frame by
frame), and can drop out of the layout (an export without a ghost gives its room to the plots
above). ``export_dance(frame, progress, should_stop)`` runs, headless, the dance the view's
"Run dance" runs for the frame's run and ghost.
"""

from __future__ import annotations

import numpy as np

from reluviz.core.compare import ghost_config
from reluviz.core.config import ConfigError
from reluviz.core.optimum import optimum_too_big
from reluviz.plots.canvas import TextRow
from reluviz.plots.lecture_dance import DanceComparePlot

LEGEND_ROW, NOTE_ROW, PLOT_ROW = 3, 4, 5  # rows of the canvas's layout


def dance_start(config, dataset) -> str:
    """Where a dance starts: at theta*, where the minibatch noise alone acts; a full-batch run would
    stand still there, so it starts at the initialisation (GD's oscillation closing in on theta*)."""
    return "init" if config.batch_size == 0 or config.batch_size >= dataset.n else "optimum"


def export_dance(frame, progress=None, should_stop=None):
    """The side-by-side dance of ``frame``'s run against its ghost (the frame's ``compare``) for
    as many steps as the frame has, as "Run dance" runs it: (``DanceResult``, "") or (None, why not)."""
    from reluviz.core.dance import dance_task

    cfg, ds = frame.config, frame.dataset
    steps = int(frame.snapshot.step)
    if not frame.compare:
        return None, "no ghost run (the preset has no compare settings)"
    if steps < 1:
        return None, "no steps to run"
    try:
        ghost = ghost_config(cfg, dict(frame.compare))
    except ConfigError as exc:
        return None, f"the ghost cannot run: {exc}"
    layout = frame.snapshot.layout
    why = optimum_too_big(layout, ds.n, cfg.train) or optimum_too_big(layout, ds.n, ghost.train)
    if why:
        return None, why
    task = dance_task(cfg, dict(frame.compare), ds, dance_start(cfg, ds), steps)
    result = task(progress or (lambda done, total: None), should_stop or (lambda: False), lambda _r: None)
    if not result.complete:
        done = int(result.trace.steps[-1]) if len(result.trace.steps) else 0
        return None, f"the dance stopped at step {done:,}"
    return result, ""


class SideBySideRow:
    """The bottom row of a ``DanceCanvas``: legend, note and the two plots of a dance."""

    def __init__(self, canvas):
        self.canvas = canvas
        g = canvas.grid
        self.legend = canvas.add_legend_row(LEGEND_ROW, 0, colspan=2)
        self.note = TextRow("", size="12pt")
        g.addItem(self.note, row=NOTE_ROW, col=0, colspan=2)
        # (the quantity on the left axis, not in a title: a title row costs a small frame its plots)
        self.distance = DanceComparePlot(g.addPlot(row=PLOT_ROW, col=0), "‖θ − θ*‖", None)
        self.excess = DanceComparePlot(g.addPlot(row=PLOT_ROW, col=1), "L(θ) − L(θ*)", None)
        self.excess.plot.setXLink(self.distance.plot)
        g.layout.setRowStretchFactor(PLOT_ROW, 4)

    def set_scale(self, scale: float) -> None:
        self.note.set_scale(scale)

    def show(self, result, upto: int | None = None, note: str = "") -> None:
        """Draw a ``DanceResult`` (None: nothing yet); with ``upto`` only the steps up to it, on an
        axis to the dance's last step."""
        if result is None:
            for p in (self.distance, self.excess):
                p.show(np.empty(0), np.empty((0, 2)), np.empty((0, 2)))
            self.legend.set_entries([])
            self.note.setText(note)
            return
        tr = result.trace
        k = len(tr.steps) if upto is None else int(np.searchsorted(tr.steps, upto, side="right"))
        end = None if upto is None else float(tr.steps[-1]) if len(tr.steps) else None
        cursor = None if upto is None else float(upto)
        floor = result.floor if (result.complete and upto is None) else None
        self.distance.show(tr.steps[:k], tr.distance[:k], result.smooth_distance[:k], floor=floor, x_end=end,
                           cursor=cursor)
        self.excess.show(tr.steps[:k], tr.excess[:k], result.smooth_excess[:k], x_end=end, cursor=cursor)
        where = "θ*" if result.start == "optimum" else "the initialisation"
        self.legend.set_entries([(self.distance.main, result.main_label), (self.distance.ghost, result.ghost_label)])
        self.note.setText(note or f"Below, side by side from {where} on the same minibatches: thick = RMS "
                                  f"over {result.window} records, thin = each (log scales).")

    def set_shown(self, shown: bool) -> None:
        """Show or drop the row (its room goes to the plots above)."""
        c, g = self.canvas, self.canvas.grid
        items = (self.legend, self.note, self.distance.plot, self.excess.plot)
        for item in items:
            item.setVisible(shown)
        if shown and self.legend not in c.legend_rows:
            g.addItem(self.legend, row=LEGEND_ROW, col=0, colspan=2)
            g.addItem(self.note, row=NOTE_ROW, col=0, colspan=2)
            g.addItem(self.distance.plot, row=PLOT_ROW, col=0)
            g.addItem(self.excess.plot, row=PLOT_ROW, col=1)
            c.legend_rows.append(self.legend)
            self.legend.setVisible(c.legends_shown)
            g.layout.setRowStretchFactor(PLOT_ROW, 4)
        elif not shown and self.legend in c.legend_rows:
            for item in items:
                g.removeItem(item)
            c.legend_rows.remove(self.legend)
            g.layout.setRowStretchFactor(PLOT_ROW, 0)


__all__ = ["SideBySideRow", "dance_start", "export_dance"]

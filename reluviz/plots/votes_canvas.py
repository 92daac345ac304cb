"""``VotesCanvas``: the votes view's drawing (lecture note 2, Figures 1-2; worksheet 1(b)), shared
by the app's Votes tab and ``reluviz export --view votes``.

Top left: one bar per training point at its x, its vote for the chosen parameter
(``reluviz.core.votes``): (2/N)(theta - y_i) for the constant model, (2/N)(theta x_i - y_i) x_i for
the line through the origin, (2/N)(f(x_i) - y_i) df(x_i)/dp for a parameter p of the affine model
or the relu net; the current minibatch's points in orange. Below it (constant, linear and affine
models), each point's error f(x_i) - y_i on the same x axis, and in both panels the worksheet's
pair: two points with (nearly) the same error far apart in x (purple), whose votes differ by
their x for the linear model's theta (vote = (2/N) error x_i) and agree for the constant model's.
Right: the sum of all votes (the full-batch gradient, about zero at theta*) next to the minibatch
gradient. The caption names the parameter and its value; the row below the plots says what the
sums are and why the pair's votes differ.

Which parameter: ``set_parameter(name)`` (the app's controls); by default (an export) ``a`` for
the affine model (the slope: the worksheet's case) and ``c``, the output bias, for a relu net (its
vote is (2/N) times the point's error: every point's error at a glance). ``set_at_optimum(True)``
evaluates the votes at theta* (when it has a closed form) instead of the current parameters.
"""

from __future__ import annotations

import numpy as np

from reluviz.core.frame import Frame
from reluviz.core.optimum import optimum, optimum_too_big
from reluviz.core.votes import compute_votes, point_errors, same_error_pair
from reluviz.plots import theme
from reluviz.plots.canvas import TextRow, ViewCanvas
from reluviz.plots.lecture_votes import PAIR, ErrorsPlot, SumsPlot, VotesPlot, fmt_gradient

#: Votes are one number per training point and parameter (the core computes them all, N x P): above
#: this many the view says so instead of spending seconds and hundreds of MB on every frame.
VOTES_LIMIT = 4_000_000

#: Models whose votes the error panel explains (one error per point, the vote a multiple of it).
ERROR_MODELS = ("constant", "linear", "affine")

COMPACT_BELOW = 0.8    # scale (``set_scale``: 0.62 at 640x360) under which the sentences below the plots are cut to numbers
SUMS_MIN_WIDTH = 270  # pixels at scale 1 (the value labels must fit)


def default_parameter(layout) -> str:
    """The parameter shown without a choice: ``theta`` (one-parameter models), ``a`` (affine: the
    slope, whose votes weigh the error by x_i), ``c`` (relu: the output bias, vote = (2/N) error)."""
    if layout.model == "affine":
        return "a"
    if layout.model == "relu":
        return "c"
    return "theta"


def _kept_pair(pair: tuple[int, int] | None, x: np.ndarray, errors: np.ndarray) -> tuple[int, int] | None:
    """``pair`` if it still qualifies as ``same_error_pair``'s kind of pair (errors within 3% of
    their spread, each at least a quarter of the largest, x at least half the data's span apart),
    else None: an animation keeps highlighting the same two points while they fit, instead of
    jumping to whichever pair is farthest apart in each frame."""
    if pair is None or max(pair) >= len(x):
        return None
    i, j = pair
    e = np.asarray(errors, dtype=float)
    spread, big = float(e.max() - e.min()), float(np.abs(e).max())
    if not (spread > 0 and np.isfinite(big)):
        return None
    close = abs(e[i] - e[j]) <= 0.03 * spread
    visible = min(abs(e[i]), abs(e[j])) >= 0.25 * big
    apart = abs(x[j] - x[i]) >= 0.5 * float(np.ptp(x))
    return pair if close and visible and apart else None


def _rgb(colour) -> str:
    return f"rgb{tuple(colour)}"


class VotesCanvas(ViewCanvas):
    """Votes (and errors) per training point beside the full-batch and minibatch sums."""

    def __init__(self, parent=None):
        super().__init__(parent, columns=2)
        g = self.grid
        self.legend = self.add_legend_row(1, 0, colspan=2)
        self.votes_item = g.addPlot(row=2, col=0)
        self.sums_item = g.addPlot(row=2, col=1, rowspan=2)
        self.errors_item = g.addPlot(row=3, col=0)
        self.errors_item.setXLink(self.votes_item)
        self.summary = TextRow("", size="12pt")
        g.addItem(self.summary, row=4, col=0, colspan=2)
        g.layout.setColumnStretchFactor(0, 4)
        g.layout.setColumnStretchFactor(1, 1)
        self.sums_item.setMinimumWidth(SUMS_MIN_WIDTH)
        self.votes_plot = VotesPlot(self.votes_item)
        self.errors_plot = ErrorsPlot(self.errors_item)
        self.sums_plot = SumsPlot(self.sums_item)
        self.errors_shown = True
        self.votes_item.showLabel("bottom", False)  # (the errors panel below carries the shared x label)
        self.parameter_chosen: str | None = None
        self.at_optimum = False
        self.exact = False            # theta* has a closed form for this run (the app enables its check box)
        self.last_votes = None        # the core's ``Votes`` drawn last (None: too many to draw)
        self.errors: np.ndarray | None = None
        self.pair: tuple[int, int] | None = None
        self.frame: Frame | None = None
        self._key = None
        self._layout = None
        self._opt_key = None
        self._opt = None

    # ------------------------------------------------------------------ choices
    def parameter(self) -> str:
        """The parameter whose votes are drawn (``theta``, ``a``, ``b``, ``c``, ``v[3]``, ...)."""
        layout = self._layout
        if layout is None:
            return self.parameter_chosen or "theta"
        if self.parameter_chosen is not None and self._valid(self.parameter_chosen):
            return self.parameter_chosen
        return default_parameter(layout)

    def _valid(self, name: str) -> bool:
        try:
            return name in self._layout.unit_names()
        except Exception:  # noqa: BLE001 (a layout without names: take the default)
            return False

    def set_parameter(self, name: str | None) -> None:
        """Draw the votes for ``name`` (None: the default, ``default_parameter``)."""
        if name == self.parameter_chosen:
            return
        self.parameter_chosen = name
        self._redraw()

    def set_at_optimum(self, on: bool) -> None:
        """Evaluate the votes at theta* (when it has a closed form) instead of the frame's parameters."""
        if bool(on) == self.at_optimum:
            return
        self.at_optimum = bool(on)
        self._redraw()

    def _redraw(self) -> None:
        for p in (self.votes_plot, self.errors_plot, self.sums_plot):
            p.reset()
        if self.frame is not None:
            self._draw(self.frame)
            self.rescale_items()

    def set_scale(self, scale: float) -> None:
        super().set_scale(scale)
        self.summary.set_scale(self.scale)
        self.sums_item.setMinimumWidth(SUMS_MIN_WIDTH * min(1.0, self.scale))

    # ------------------------------------------------------------------ layout
    def _show_errors(self, shown: bool) -> None:
        """The error panel below the votes (constant, linear, affine), the sums spanning both."""
        if shown == self.errors_shown:
            return
        self.errors_shown = shown
        g = self.grid
        g.removeItem(self.sums_item)
        if shown:
            g.addItem(self.errors_item, row=3, col=0)
            g.addItem(self.sums_item, row=2, col=1, rowspan=2)
        else:
            g.removeItem(self.errors_item)
            self.errors_item.hide()
            g.addItem(self.sums_item, row=2, col=1)
        self.errors_item.setVisible(shown)
        # one x axis for both panels: the label once, under the errors
        self.votes_item.showLabel("bottom", not shown)

    def rescale_items(self) -> None:
        super().rescale_items()
        self._align_left_axes()

    def _align_left_axes(self) -> None:
        """The votes and errors panels share x: their left axes get one width, so a point's bars
        sit at the same pixel column in both."""
        if not self.errors_shown:
            self.votes_item.getAxis("left").setWidth(None)
            self.votes_item.getAxis("left")._updateWidth()
            return
        axes = [self.votes_item.getAxis("left"), self.errors_item.getAxis("left")]
        for axis in axes:
            axis.setWidth(None)
            axis._updateWidth()
        width = max(axis.minimumWidth() for axis in axes)
        for axis in axes:
            axis.setWidth(int(np.ceil(width)))

    # ------------------------------------------------------------------ drawing a frame
    def show_frame(self, frame: Frame) -> None:
        self.frame = frame
        layout, ds = frame.snapshot.layout, frame.dataset
        key = (frame.run_id, id(ds), layout)
        if key != self._key:
            self._key = key
            self._layout = layout
            self._show_errors(layout.model in ERROR_MODELS)
            self.pair = None
            self.votes_plot.set_points(ds.x_train)
            self.errors_plot.set_points(ds.x_train)
            for p in (self.votes_plot, self.errors_plot, self.sums_plot):
                p.reset()
        self._draw(frame)
        self._align_left_axes()

    def _optimum(self, frame: Frame) -> np.ndarray:
        """theta* (P,) (closed form: constant, linear, affine, relu training its output layer)."""
        cfg, ds, snap = frame.config, frame.dataset, frame.snapshot
        params = np.asarray(snap.params[0])
        hidden = params[: snap.layout.output_start].tobytes()
        key = (id(ds), snap.layout, cfg.ridge, cfg.train, hidden)
        if key != self._opt_key:
            self._opt = optimum(cfg, ds, params).params
            self._opt_key = key
        return self._opt

    def _too_many(self, n: int, p: int, step: int) -> None:
        self.last_votes = None
        self.errors = None
        self.pair = None
        for plot in (self.votes_plot, self.errors_plot):
            plot.clear()
        self.legend.set_entries([])
        self.set_caption(f"<b>step {step:,}</b>")
        self.summary.setText(f"<b>Too many votes to draw live:</b> {n:,} training points × {p:,} parameters "
                             f"(at most {VOTES_LIMIT:,}). Use fewer points or a narrower network to see them.")

    def _draw(self, frame: Frame) -> None:
        snap, ds, cfg = frame.snapshot, frame.dataset, frame.config
        layout = snap.layout
        name = self.parameter()
        lam = cfg.ridge
        batch = np.asarray(snap.batch[0])
        full_batch = cfg.batch_size == 0 or len(batch) >= ds.n and len(np.unique(batch)) == ds.n
        params = np.asarray(snap.params[0])
        self.exact = (layout.model != "relu" or cfg.train == "output") and not optimum_too_big(layout, ds.n, cfg.train)
        star = self.exact and self.at_optimum
        if star:
            params = self._optimum(frame)
        where = " at θ*" if star else ""
        if ds.n * layout.size > VOTES_LIMIT:
            self._too_many(ds.n, layout.size, snap.step)
            return
        v = compute_votes(layout, params, ds.x_train, ds.y_train, batch=None if full_batch else batch,
                          select=[name], ridge=lam, mask=layout.mask(cfg.train))
        self.last_votes = v
        votes = v.votes[:, 0]
        x = np.asarray(ds.x_train, dtype=float)
        n, bsize = v.n, v.batch_size
        sym = "θ" if name == "theta" else name
        formula = {"constant": "(2/N)(θ − yᵢ)", "linear": "(2/N)(θxᵢ − yᵢ)xᵢ"}.get(
            layout.model, f"(2/N)(f(xᵢ) − yᵢ) ∂f/∂{sym}")
        if self.errors_shown:
            self.errors = point_errors(layout, params, x, ds.y_train)
            self.pair = _kept_pair(self.pair, x, self.errors) or same_error_pair(x, self.errors)
            self.errors_plot.show(x, self.errors, self.pair)
        else:
            self.errors, self.pair = None, None
        self.votes_plot.show(x, votes, v.batch_mask, ylabel=f"vote for {sym}", pair=self.pair)
        full = float(v.full_gradient[0])
        scale = float(np.abs(v.votes).sum())  # the size of the terms that cancel
        self.sums_plot.scale = scale
        batch_grad = None if full_batch else float(v.batch_gradient[0])
        ridge_vote = float(v.decay_term[0]) if lam else None
        self.sums_plot.show(full, batch_grad, ylabel=f"∂F/∂{sym}" if lam else f"∂L/∂{sym}", ridge=ridge_vote,
                            votes=float(v.full_sum[0]))
        entries = [(self.votes_plot.bars, f"vote {formula}")]
        if not full_batch:
            entries.append((self.votes_plot.batch_bars, "in this minibatch"))
        if self.errors_shown:
            entries.append((self.errors_plot.bars, "error f(xᵢ) − yᵢ"))
        if self.pair is not None:
            entries.append((self.votes_plot.pair_bars, "same error, different x"))
        self.legend.set_entries(entries)
        value = float(params[v.columns[0]])
        what = {"c": "c, the output bias (∂f/∂c = 1: each vote is 2/N × the point's error)", "a": "a, the slope",
                "b": "b, the intercept"}.get(name, sym)
        caption = f"votes for {what}; {sym} = {value:.4g}" + (" (θ*, the optimum)" if star else "")
        # (an export's header line already says the step)
        self.set_caption(caption if self._header else f"<b>step {snap.step:,}</b>: {caption}")
        compact = self.compact()
        self.summary.setText(self._sums_text(v, full, batch_grad, scale, sym, where, float(snap.lr[0]), lam, compact)
                             + self._pair_text(layout.model, name, x, votes, compact))

    def compact(self) -> bool:
        """Short sentences below the plots: an export under ~900 pixels wide, or a small window's tab."""
        return self.scale < COMPACT_BELOW or (self.isVisible() and (self.width() < 900 or self.height() < 520))

    def _sums_text(self, v, full, batch_grad, scale, sym, where, lr, lam, compact=False) -> str:
        n, bsize = v.n, v.batch_size
        if compact:  # (a small frame: the numbers, in one line)
            text = f"<b>Σ votes{where}</b>{' + 2λ' + sym if lam else ''} = full-batch gradient <b>{fmt_gradient(full, scale)}</b>"
            if batch_grad is not None:
                text += (f" · <b><span style='color: {_rgb(theme.BATCH)}'>minibatch gradient</span></b> "
                         f"({n}/{bsize} × Σ orange) = <b>{batch_grad:+.3g}</b>")
            return text
        decay = f" + the ridge's vote 2λ{sym} ({float(v.decay_term[0]):+.3g})" if lam else ""
        shown = fmt_gradient(full, scale)
        if lam:  # the data's votes and the regulariser's balance at the ridge optimum
            head = (f"<b>Sum of all {n} votes{where}</b> ({float(v.full_sum[0]):+.3g}){decay} = full-batch gradient "
                    f"∂F/∂{sym} of the objective")
        else:
            head = f"<b>Sum of all {n} votes{where}</b> = full-batch gradient ∂L/∂{sym}"
        text = (f"{head} {'' if shown == '≈ 0' else '= '}<b>{shown}</b>"
                + (f" ({full:.2g}: rounding error)" if shown == "≈ 0" else ""))
        if batch_grad is not None:
            text += (f" · <b><span style='color: {_rgb(theme.BATCH)}'>Minibatch gradient</span></b>"
                     f" = ({n}/{bsize}) × sum of the {bsize} orange votes{decay} = <b>{batch_grad:+.3g}</b>:"
                     f" this step moves {sym} by −lr × gradient = {-lr * batch_grad:+.3g}")
        else:
            text += " (full-batch training: the step uses exactly this sum)"
        return text

    def _pair_text(self, model: str, name: str, x: np.ndarray, votes: np.ndarray, compact=False) -> str:
        """One sentence on the pair (worksheet 1(b)): why their votes differ, or why they do not."""
        if self.pair is None or self.errors is None:
            return ""
        i, j = self.pair
        e = self.errors
        if compact:
            same = model == "constant" or name == "b"
            return (f"<br><b><span style='color: {_rgb(PAIR)}'>same error</span></b> ≈ {0.5 * (e[i] + e[j]):+.2g} at "
                    f"x = {x[i]:.2g} and {x[j]:.2g}: votes {votes[i]:+.2g} and {votes[j]:+.2g} "
                    + ("(vote = 2/N × error: x does not matter)" if same else "(vote = 2/N × error × xᵢ)"))
        head = (f"<br><b><span style='color: {_rgb(PAIR)}'>Same error, different x</span></b>: the points at "
                f"x = {x[i]:.2g} and x = {x[j]:.2g} are both off by ≈ {0.5 * (e[i] + e[j]):+.2g}, ")
        if model == "constant" or name == "b":
            return head + (f"and their votes agree ({votes[i]:+.2g}, {votes[j]:+.2g}): the vote for {name if name == 'b' else 'θ'} "
                           "is (2/N) × error, where the point sits in x does not matter.")
        return head + (f"yet they vote {votes[i]:+.2g} and {votes[j]:+.2g}: the vote for "
                       f"{'θ' if name == 'theta' else name} is 2/N × error × xᵢ, so the point farther from x = 0 "
                       "pulls harder.")


__all__ = ["VotesCanvas", "VOTES_LIMIT", "default_parameter"]

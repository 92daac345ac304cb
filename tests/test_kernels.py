"""The compiled kernels (numba) against the NumPy reference: the same trajectories to 1e-12.

Both backends train the same configuration from the same init on the same minibatches; parameters,
optimizer slots, minibatch losses, rates and recorded batches must agree at every step to 1e-12
(relative to each array's largest value), over every model, optimizer, schedule, sampling mode,
train mask, full batch or minibatch, with and without ridge, for one and for three runs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reluviz.core import History, TrainConfig, Trainer, backend as backend_mod
from reluviz.core.config import OPTIMIZERS, SAMPLINGS, SCHEDULES
from reluviz.core.recording import record_run

pytest.importorskip("numba")

TOL = 1e-12
BASE = TrainConfig(n_train=60, width=6, batch_size=8, steps=240, step_size=50, decay=0.01, t_max=200)
#: (settings of the model, train mask): one-layer relu (its own fast kernel), the one-parameter models,
#: and the general kernel: deeper nets and the other activations
MODELS = tuple((dict(m), t) for m, t in (
    ({"model": "relu"}, "all"), ({"model": "relu"}, "output"), ({"model": "relu"}, "hidden"),
    ({"model": "constant"}, "all"), ({"model": "linear"}, "all"), ({"model": "affine"}, "all"),
    ({"model": "relu", "depth": 2}, "all"), ({"model": "relu", "depth": 3}, "hidden"),
    ({"model": "relu", "depth": 2, "activation": "leaky_relu", "leaky_slope": 0.1}, "all"),
    ({"model": "relu", "activation": "tanh"}, "all"), ({"model": "relu", "depth": 2, "activation": "tanh"}, "output"),
    ({"model": "relu", "depth": 3, "activation": "sigmoid"}, "all")))
MODEL_IDS = [",".join(f"{k}={v}" for k, v in m.items()) + f",train={t}" for m, t in MODELS]


def _train(monkeypatch, kind: str, cfg: TrainConfig, runs: int, steps: int):
    monkeypatch.setenv("RELUVIZ_BACKEND", kind)
    tr = Trainer(cfg, runs=runs, init_seeds=range(runs), sample_seeds=range(runs), lr_scale=np.linspace(1, 2, runs))
    h = History.for_trainer(tr, budget_bytes=1 << 22)
    tr.run(steps, record=h)
    return tr, h


def _agree(a, b) -> float:
    """Largest |a - b| relative to the largest |a| (both arrays)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-300)) if a.size else 0.0


def _compare(monkeypatch, cfg: TrainConfig, runs: int, steps: int = 240) -> None:
    ref, hr = _train(monkeypatch, "numpy", cfg, runs, steps)
    fast, hf = _train(monkeypatch, "numba", cfg, runs, steps)
    assert np.array_equal(hr.steps, hf.steps) and np.array_equal(hr.batches, hf.batches)
    assert np.array_equal(ref.diverged, fast.diverged) and ref.step == fast.step
    for name, a, b in (("state", ref.state, fast.state), ("recorded params", hr.params, hf.params),
                       ("batch loss", hr.batch_losses, hf.batch_losses), ("lr", hr.lrs, hf.lrs)):
        assert _agree(a, b) <= TOL, (name, _agree(a, b))


GRID = [(m, t, o, s, smp, bs, wd) for (m, t), o, s, smp, bs, wd in itertools.product(
    MODELS, OPTIMIZERS, SCHEDULES, SAMPLINGS, (8, 0), (0.0, 0.05))]


@pytest.mark.slow
@pytest.mark.parametrize("model, train, optimizer, schedule, sampling, batch, wd", GRID)
def test_every_configuration_agrees(monkeypatch, model, train, optimizer, schedule, sampling, batch, wd):
    cfg = BASE.updated({**model, "train": train, "optimizer": optimizer, "schedule": schedule,
                        "sampling": sampling, "batch_size": batch, "ridge": wd,
                        "lr": 0.01 if optimizer == "adam" else 0.05})
    _compare(monkeypatch, cfg, runs=1)
    _compare(monkeypatch, cfg, runs=3, steps=120)


@pytest.mark.parametrize("model, train, optimizer", [(m, t, o) for (m, t), o in itertools.product(MODELS, OPTIMIZERS)],
                         ids=[f"{i}-{o}" for i, o in itertools.product(MODEL_IDS, OPTIMIZERS)])
def test_each_model_and_optimizer_agrees(monkeypatch, model, train, optimizer):
    """The fast loop's share of the grid above: every model x train mask x optimizer."""
    cfg = BASE.updated({**model, "train": train, "optimizer": optimizer, "ridge": 0.05,
                        "schedule": "cosine", "lr": 0.01 if optimizer == "adam" else 0.05})
    _compare(monkeypatch, cfg, runs=2)


@pytest.mark.parametrize("width, batch", [(1, 1), (3, 5), (4, 4), (5, 7), (9, 6), (13, 11), (40, 40)])
def test_the_relu_kernel_agrees_whatever_the_width_and_batch(monkeypatch, width, batch):
    """The one-layer relu kernel takes four units and four points at a time; widths and batches
    that are not multiples of four (and those under four) take the rest one by one."""
    for optimizer in ("sgd", "adam"):
        cfg = BASE.updated({"width": width, "batch_size": batch, "optimizer": optimizer,
                            "lr": 0.01 if optimizer == "adam" else 0.05})
        _compare(monkeypatch, cfg, runs=2)


@pytest.mark.parametrize("sampling, batch", [("replacement", 8), ("shuffle", 7), ("replacement", 0)])
def test_calls_spanning_several_sampling_blocks_agree(monkeypatch, sampling, batch):
    """One compiled call covers several 1,024-step sampling blocks (``SPAN_BLOCKS``): a run over
    five blocks matches the NumPy path, and the same run asked for in uneven pieces (calls that
    start and end inside blocks, a schedule crossing them) is bit for bit the same."""
    import reluviz.core.trainer as trainer_module

    cfg = BASE.updated({"sampling": sampling, "batch_size": batch, "optimizer": "momentum", "schedule": "cosine",
                        "t_max": 4000, "lr": 0.05})
    _compare(monkeypatch, cfg, runs=2, steps=5 * 1024 + 77)
    ref, h_ref = _train(monkeypatch, "numba", cfg, 2, 5 * 1024 + 77)
    tr = Trainer(cfg, runs=2, init_seeds=range(2), sample_seeds=range(2), lr_scale=np.linspace(1, 2, 2))
    assert tr._span > 1 and trainer_module.SPAN_BLOCKS > 1
    h = History.for_trainer(tr, budget_bytes=1 << 22)
    for n in (1, 700, 1500, 3, 2500, 493):  # 5 * 1024 + 77 in all
        tr.run(n, record=h)
    assert tr.step == ref.step
    assert np.array_equal(tr.state, ref.state)
    assert np.array_equal(h.steps, h_ref.steps) and np.array_equal(h.batches, h_ref.batches)
    assert np.array_equal(h.params, h_ref.params) and np.array_equal(h.lrs, h_ref.lrs)


def test_divergence_stops_both_at_the_same_step_with_the_same_reason(monkeypatch):
    cfg = BASE.updated({"lr": 50.0})
    ref, _ = _train(monkeypatch, "numpy", cfg, 1, 500)
    fast, _ = _train(monkeypatch, "numba", cfg, 1, 500)
    assert ref.stopped and fast.stopped and ref.step == fast.step
    assert ref.divergence.step == fast.divergence.step and ref.divergence.reason == fast.divergence.reason
    assert _agree(ref.state, fast.state) <= TOL  # the last finite state
    # three runs, one of which blows up: the others go on, the stopped one stays frozen
    cfg = BASE.updated({"lr": 0.3})
    for kind in ("numpy", "numba"):
        monkeypatch.setenv("RELUVIZ_BACKEND", kind)
        tr = Trainer(cfg, runs=3, lr_scale=[1.0, 1.0, 200.0])
        tr.run(300)
        assert list(tr.diverged) == [False, False, True] and tr.step == 300
        if kind == "numpy":
            ref_state = tr.state.copy()
    assert _agree(ref_state, tr.state) <= TOL


def test_on_step_reports_the_same_steps_as_recording(monkeypatch):
    """``on_step`` with the compiled kernels (one recorded step at each reported step) reports what
    the NumPy path reports, and ``reluviz train --every K`` keeps the same rows with either."""
    cfg = BASE.updated({"optimizer": "adam", "lr": 0.01})
    seen = {}
    for kind in ("numpy", "numba"):
        monkeypatch.setenv("RELUVIZ_BACKEND", kind)
        rows = []
        Trainer(cfg).run(100, every=7, on_step=lambda t, state, batch, loss, lr, dead: rows.append(
            (t, state[0].copy(), batch[0].copy(), float(loss[0]), float(lr[0]))))
        seen[kind] = rows
        seen[kind + " file"] = record_run(cfg, steps=100, every=7).arrays
    assert [r[0] for r in seen["numpy"]] == [r[0] for r in seen["numba"]] == list(range(0, 100, 7))
    for a, b in zip(seen["numpy"], seen["numba"]):
        assert np.array_equal(a[2], b[2]) and a[4] == b[4]
        assert _agree(a[1], b[1]) <= TOL and abs(a[3] - b[3]) <= TOL * abs(a[3])
    ref, rec = seen["numpy file"], seen["numba file"]
    assert np.array_equal(rec["step"], ref["step"])
    for key in ("w", "b", "v", "c", "batch_loss", "lr", "train_loss"):
        assert _agree(ref[key], rec[key]) <= TOL, key


def test_numpy_is_chosen_by_the_environment_and_when_numba_is_missing(monkeypatch):
    monkeypatch.setenv("RELUVIZ_BACKEND", "numpy")
    assert backend_mod.compiled() is None and backend_mod.status().startswith("NumPy")
    monkeypatch.setenv("RELUVIZ_BACKEND", "numba")
    assert backend_mod.compiled() is not None and backend_mod.status().startswith("numba")
    monkeypatch.setattr(backend_mod, "_state", {"module": None, "ready": False, "error": "", "seconds": 0.0,
                                                "thread": None})
    import builtins

    real_import = builtins.__import__

    def no_numba(name, *args, **kwargs):
        if name == "numba" or name.startswith("reluviz.core.compiled_steps") or (
                name == "reluviz.core" and args and args[2] and "compiled_steps" in args[2]):
            raise ImportError("No module named 'numba'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numba)
    assert backend_mod.compiled() is None and "numba is not available" in backend_mod.status()
    tr = Trainer(BASE)
    assert tr.run(50) == 50  # the NumPy path trains


def test_the_window_trains_with_numpy_while_the_kernels_compile(qtbot, make_window, monkeypatch):
    """First launch: compiling takes seconds; the window trains meanwhile and switches when ready."""
    import threading

    monkeypatch.setenv("RELUVIZ_BACKEND", "numba")
    gate = threading.Event()
    real_compile = backend_mod._compile

    def slow_compile(module):
        gate.wait(60)
        real_compile(module)

    monkeypatch.setattr(backend_mod, "_state", {"module": None, "ready": False, "error": "", "seconds": 0.0,
                                                "thread": None})
    monkeypatch.setattr(backend_mod, "_compile", slow_compile)
    w = make_window()
    w.panel.set_speed(0)
    w.play()
    qtbot.waitUntil(lambda: w.session.head_step > 300 and w.frames_drawn > 3, timeout=20_000)
    assert backend_mod.compiling() and not w.session.trains_off_gil
    assert "compiling" in w.status.text()
    gate.set()
    qtbot.waitUntil(lambda: w.session.trains_off_gil, timeout=60_000)
    at = w.session.head_step
    qtbot.waitUntil(lambda: w.session.head_step > at + 2000, timeout=20_000)
    w.pause()
    with w.session.locked():
        steps = np.array(w.history.steps)
    assert np.array_equal(steps, np.arange(steps[0], steps[-1] + 1))  # every step recorded across the switch
    assert "compiling" not in w.status.text()


def test_the_cache_goes_to_the_users_folder_when_the_package_is_read_only(tmp_path):
    """numba caches beside the module, or in the user's cache folder when that is not writable."""
    import os
    import shutil
    import subprocess
    import sys

    if os.geteuid() == 0:
        pytest.skip("root may write anywhere: a read-only package folder cannot be made here")
    pkg = tmp_path / "site" / "reluviz"
    shutil.copytree(os.path.dirname(os.path.dirname(backend_mod.__file__)), pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for root, dirs, _ in os.walk(pkg):
        os.chmod(root, 0o555)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               RELUVIZ_BACKEND="numba")
    env.pop("NUMBA_CACHE_DIR", None)
    code = "from reluviz.core import backend; assert backend.compiled() is not None"
    try:
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    finally:
        for root, dirs, _ in os.walk(pkg):
            os.chmod(root, 0o755)
    assert list((tmp_path / "cache").rglob("*.nbi")), "no numba cache index in the user's cache folder"


def test_each_run_its_own_ridge(monkeypatch):
    """A model-selection sweep trains a grid of ridge values as one trainer: per-run weight decay."""
    cfg = BASE.updated({"optimizer": "momentum", "lr": 0.05})
    out = []
    for kind in ("numpy", "numba"):
        monkeypatch.setenv("RELUVIZ_BACKEND", kind)
        tr = Trainer(cfg, runs=4, ridges=[0.0, 0.01, 0.1, 1.0])
        tr.run(300)
        out.append(tr.state.copy())
    assert _agree(*out) <= TOL
    norms = np.linalg.norm(out[1][:, : tr.layout.size], axis=1)
    assert np.all(np.diff(norms) < 0)  # more ridge, smaller weights


def test_a_frames_losses_agree_with_the_numpy_reference(monkeypatch):
    """``metrics.mean_loss`` of a one-layer relu net goes through the compiled ``relu_sse`` (off
    the GIL; the app computes every frame's four losses so), as ``model.mse(compiled=True)`` (the
    seed bands' losses): the same MSE as NumPy's."""
    from reluviz.core import backend
    from reluviz.core.metrics import dataset_losses, mean_loss

    tr = Trainer(BASE.updated({"width": 7, "n_test": 1000}))
    tr.run(50)
    snap = tr.snapshot()
    ds = tr.dataset
    monkeypatch.setenv("RELUVIZ_BACKEND", "numba")
    assert backend.compiled(wait=True) is not None
    fast = dataset_losses(snap, ds)
    monkeypatch.setenv("RELUVIZ_BACKEND", "numpy")
    ref = dataset_losses(snap, ds)
    for a, b in zip(fast, ref):
        assert (a != a and b != b) or abs(a - b) <= TOL * abs(b), (fast, ref)
    # model.mse(compiled=True) (the sweeps' losses), R runs at once
    from reluviz.core.model import mse

    tr3 = Trainer(BASE.updated({"width": 7}), runs=3, init_seeds=range(3))
    tr3.run(40)
    fast3 = mse(tr3.layout, tr3.params, ds.x_test, ds.y_test, compiled=True)
    ref3 = mse(tr3.layout, tr3.params, ds.x_test, ds.y_test)
    assert fast3.shape == (3,) and np.allclose(fast3, ref3, rtol=TOL, atol=0) and not np.array_equal(ref3[0], ref3[1])
    assert mse(tr3.layout, tr3.params[0], ds.x_test, ds.y_test, compiled=True).shape == ()
    # a blown-up state: no exception, a loss that is not finite or huge either way
    big = type(snap).create(snap.step, snap.layout, snap.state * 1e160, snap.batch, snap.batch_loss, snap.lr,
                            snap.diverged)
    monkeypatch.setenv("RELUVIZ_BACKEND", "numba")
    assert not mean_loss(big, ds.x_train, ds.y_train) < 1e300


def test_training_and_frames_call_only_what_the_warm_up_compiled():
    """``backend.warm_up`` compiles the kernels for the argument types the app calls them with. A
    call with another type (a read-only array is one: the ridge row, a snapshot's parameters) made
    numba compile again at the first step: the first frame of a launch came 4-7 s late, with the
    GIL held. In a fresh process: warm up, then train and draw as the app and the sweeps do, and
    no kernel may have gained a signature."""
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = textwrap.dedent("""
        import reluviz
        from reluviz.core import History, Trainer, backend
        from reluviz.core.presets import load_preset
        from reluviz.core.session import Session
        m = backend.compiled(wait=True)
        names = ("run_stretch", "batch_losses", "relu_sse")
        before = {n: set(getattr(m, n).signatures) for n in names}
        base = load_preset("notebook").config
        for cfg in (base, base.updated({"batch_size": 0}), base.updated({"depth": 2, "width": 8}),
                    base.updated({"model": "affine"}), base.updated({"optimizer": "adam", "ridge": 0.01}),
                    base.updated({"train": "output", "optimizer": "momentum"}), base.updated({"activation": "tanh"})):
            s = Session(cfg)
            s.advance(3000)
            s.checkpoint()
            s.frame()
        tr = Trainer(base, runs=5, init_seeds=range(5), sample_seeds=range(5))
        tr.run(2000, record=History.for_trainer(tr))
        tr.snapshot()
        print([(n, str(sig)) for n in names for sig in set(getattr(m, n).signatures) - before[n]])
    """)
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, RELUVIZ_BACKEND="numba", PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-3000:]

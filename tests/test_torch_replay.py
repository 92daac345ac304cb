"""reluviz's training equals torch.optim's on the same batches (the acceptance test of issue 2).

A run recorded with every step and its minibatch indices (what ``reluviz train --record-batches``
writes) is replayed in PyTorch, float64: the same network (``Sequential(Linear(1, H), ReLU(),
Linear(H, 1))``) from the recorded initial parameters, ``MSELoss`` on the recorded batches,
``torch.optim.SGD`` / ``Adam`` (and ``lr_scheduler.StepLR``). Parameters must agree at every step
to 1e-10 relative, and so must each step's minibatch loss.
"""

import json

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import History, TrainConfig, Trainer
from reluviz.core.presets import load_preset
from reluviz.core.recording import record_run

#: replays of 400 to 2,000 steps each in torch (about 8 s in all): the full suite's, not the fast loop's
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]  # (each replay with both backends)

torch = None  # imported by the fixture below, so that collecting the fast loop does not load torch


@pytest.fixture(scope="module", autouse=True)
def _torch():
    global torch
    torch = pytest.importorskip("torch")


RTOL = 1e-10

BASE = load_preset("notebook").config


def _torch_optimizer(cfg: TrainConfig, params):
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                                weight_decay=2 * cfg.ridge)
    momentum = 0.0 if cfg.optimizer == "sgd" else cfg.momentum
    return torch.optim.SGD(params, lr=cfg.lr, momentum=momentum, nesterov=cfg.optimizer == "nesterov",
                           weight_decay=2 * cfg.ridge)  # torch's weight decay is 2 lambda of the notes' ridge


def _flat(model) -> np.ndarray:
    """torch parameters in reluviz's order: w, b, v, c (one row each, like the record)."""
    first, last = model[0], model[2]
    return np.concatenate([first.weight.detach().numpy()[:, 0], first.bias.detach().numpy(),
                           last.weight.detach().numpy()[0], last.bias.detach().numpy()])


def replay(rec: dict, cfg: TrainConfig, rtol: float = RTOL) -> tuple[int, float]:
    """Replay ``rec`` (arrays of a recording) in torch, checking every step: (steps, worst error)."""
    w, b, v, c = (np.asarray(rec[k]) for k in ("w", "b", "v", "c"))
    batches, lrs, losses = np.asarray(rec["batch"]), np.asarray(rec["lr"]), np.asarray(rec["batch_loss"])
    steps, h = w.shape[0] - 1, w.shape[1]  # (a run file also holds the last row's next batch)
    assert steps > 0 and len(batches) >= steps
    x = torch.tensor(np.asarray(rec["x_train"]), dtype=torch.float64).reshape(-1, 1)
    y = torch.tensor(np.asarray(rec["y_train"]), dtype=torch.float64).reshape(-1, 1)
    model = torch.nn.Sequential(torch.nn.Linear(1, h), torch.nn.ReLU(), torch.nn.Linear(h, 1)).double()
    with torch.no_grad():  # step 0 of the record: the initial parameters
        model[0].weight.copy_(torch.from_numpy(w[0].reshape(h, 1)))
        model[0].bias.copy_(torch.from_numpy(b[0]))
        model[2].weight.copy_(torch.from_numpy(v[0].reshape(1, h)))
        model[2].bias.copy_(torch.tensor([c[0]], dtype=torch.float64))
    if cfg.train == "output":
        for p in model[0].parameters():
            p.requires_grad_(False)
        params = list(model[2].parameters())
    elif cfg.train == "hidden":
        for p in model[2].parameters():
            p.requires_grad_(False)
        params = list(model[0].parameters())
    else:
        params = list(model.parameters())
    opt = _torch_optimizer(cfg, params)
    sched = None
    if cfg.schedule == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
    elif cfg.schedule != "constant":
        raise NotImplementedError(cfg.schedule)
    loss_fn = torch.nn.MSELoss()
    want = np.concatenate([w, b, v, c[:, None]], axis=1)
    scale = np.abs(want).max(axis=1)
    worst = 0.0
    for t in range(steps):
        group_lr = opt.param_groups[0]["lr"]
        assert group_lr == pytest.approx(lrs[t], rel=1e-15), f"step {t}: torch lr {group_lr}, recorded {lrs[t]}"
        idx = torch.from_numpy(batches[t])
        loss = loss_fn(model(x[idx]), y[idx])
        assert loss.item() == pytest.approx(losses[t], rel=rtol), f"minibatch loss differs at step {t}"
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        got = _flat(model)
        err = np.abs(got - want[t + 1]).max() / scale[t + 1]
        assert err <= rtol, f"parameters differ at step {t + 1}: max relative error {err:.3g}"
        worst = max(worst, err)
    return steps, worst


CASES = [{"optimizer": "sgd", "lr": 0.02},
         {"optimizer": "momentum", "lr": 0.02},
         {"optimizer": "nesterov", "lr": 0.02},
         {"optimizer": "adam", "lr": 0.005}]


@pytest.mark.parametrize("ridge", [0.0, 0.005])
@pytest.mark.parametrize("settings", CASES, ids=[c["optimizer"] for c in CASES])
def test_optimizers_match_torch(settings, ridge):
    cfg = BASE.updated({**settings, "ridge": ridge})
    rec = record_run(cfg, steps=1000, every=1, record_batches=True)
    assert replay(rec.arrays, cfg)[0] == 1000


@pytest.mark.parametrize("settings", CASES, ids=[c["optimizer"] for c in CASES])
def test_step_schedule_matches_torch_steplr(settings):
    cfg = BASE.updated({**settings, "schedule": "step", "step_size": 250, "gamma": 0.5})
    rec = record_run(cfg, steps=1000, every=1, record_batches=True)
    assert rec.arrays["lr"][999] == settings["lr"] * 0.5**3
    replay(rec.arrays, cfg)


@pytest.mark.parametrize("settings", [CASES[1], CASES[3]], ids=["momentum", "adam"])
@pytest.mark.parametrize("ridge", [0.0, 0.005])
def test_output_layer_only_matches_torch_with_hidden_layer_frozen(settings, ridge):
    cfg = BASE.updated({**settings, "train": "output", "ridge": ridge})
    rec = record_run(cfg, steps=600, every=1, record_batches=True)
    assert np.array_equal(rec.arrays["w"][-1], rec.arrays["w"][0])
    replay(rec.arrays, cfg)


@pytest.mark.parametrize("settings", [CASES[0], CASES[3]], ids=["sgd", "adam"])
def test_runs_trained_side_by_side_each_match_torch(settings):
    """The vectorised path (R runs in one Trainer, as the seed sweeps and the ridge sweep of model
    selection use it: each run with its own lambda) replays run by run."""
    cfg = BASE.updated({**settings, "width": 10})
    seeds, ridges = [3, 4, 5], [0.0, 0.005, 0.02]
    tr = Trainer(cfg, runs=3, init_seeds=seeds, sample_seeds=seeds, ridges=ridges)
    hist = History.for_trainer(tr)
    tr.run(400, on_step=hist.record)
    hist.record_snapshot(tr.snapshot())
    lay, params = tr.layout, hist.params
    for r in range(3):
        rec = {k: lay.get(params[:, r], k) for k in ("w", "b", "v", "c")}
        rec.update(batch=hist.batches[:-1, r], lr=hist.lrs[:, r], batch_loss=hist.batch_losses[:, r],
                   x_train=tr.dataset.x_train, y_train=tr.dataset.y_train)
        assert replay(rec, cfg.updated({"ridge": ridges[r]}))[0] == 400


def test_reluviz_train_history_matches_a_torch_replay(tmp_path):
    """`reluviz train --preset notebook --out h.npz` (with its batches) replays exactly in torch."""
    out = tmp_path / "h.npz"
    assert main(["train", "--preset", "notebook", "--steps", "2000", "--record-batches", "--out", str(out),
                 "--quiet"]) == 0
    with np.load(out) as h:
        rec = {k: h[k] for k in h.files}
    cfg = TrainConfig.from_dict(json.loads(str(rec["config"])))
    assert cfg == BASE
    assert list(rec["step"]) == list(range(2001))
    assert replay(rec, cfg)[0] == 2000


@pytest.mark.parametrize("settings", CASES, ids=[c["optimizer"] for c in CASES])
@pytest.mark.parametrize("ridge", [0.0, 0.01])
def test_affine_model_matches_torch_linear_1_1(settings, ridge, backend):
    """The affine model y = a x + b is torch's ``Linear(1, 1)`` (weight a, bias b): its recorded
    ``theta`` (T, 2) = [a, b] replays step for step, with every optimizer and the ridge, trained by
    either backend (NumPy or the compiled kernels)."""
    cfg = TrainConfig(model="affine", target="line", noise=0.5, init_seed=1, steps=500,
                      **{**settings, "ridge": ridge, "batch_size": 4})
    rec = record_run(cfg, steps=500, every=1, record_batches=True).arrays
    theta, batches, lrs, losses = (np.asarray(rec[k]) for k in ("theta", "batch", "lr", "batch_loss"))
    assert theta.shape == (501, 2)
    x = torch.tensor(np.asarray(rec["x_train"]), dtype=torch.float64).reshape(-1, 1)
    y = torch.tensor(np.asarray(rec["y_train"]), dtype=torch.float64).reshape(-1, 1)
    model = torch.nn.Linear(1, 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[theta[0, 0]]], dtype=torch.float64))
        model.bias.copy_(torch.tensor([theta[0, 1]], dtype=torch.float64))
    opt = _torch_optimizer(cfg, list(model.parameters()))
    loss_fn = torch.nn.MSELoss()
    for t in range(500):
        assert opt.param_groups[0]["lr"] == pytest.approx(lrs[t], rel=1e-15)
        idx = torch.from_numpy(batches[t])
        loss = loss_fn(model(x[idx]), y[idx])
        assert loss.item() == pytest.approx(losses[t], rel=RTOL)
        opt.zero_grad()
        loss.backward()
        opt.step()
        got = np.array([model.weight.item(), model.bias.item()])
        err = np.abs(got - theta[t + 1]).max() / np.abs(theta[t + 1]).max()
        assert err <= RTOL, f"parameters differ at step {t + 1}: max relative error {err:.3g}"

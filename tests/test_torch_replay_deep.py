"""Deep networks and other activations train as torch.optim does (the headless check of issue 12).

``reluviz train --set depth=2|3 --set optimizer=... --set train=... --record-batches --every 1``
writes every step's parameters (``w``, ``b`` (T, H); ``w2``, ``b2``, ... with ``wk`` (T, H, H) in
torch.nn.Linear's (out, in) layout; ``v``, ``c``) and minibatch indices. The run is replayed in
PyTorch, float64, as ``Sequential(Linear(1, H), act, Linear(H, H), act, ..., Linear(H, 1))`` from
the recorded initial parameters, ``MSELoss`` on the recorded batches and ``torch.optim.SGD`` /
``Adam``; every parameter must agree at every step to 1e-10 relative (to the largest parameter),
and so must each minibatch loss.
"""

import json

import numpy as np
import pytest

from reluviz.cli import main
from reluviz.core import TrainConfig
from reluviz.core.config import SETTINGS
from reluviz.core.recording import record_run

#: torch replays of a few hundred steps each: the full suite's, not the fast loop's
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]  # (each replay with both backends)

torch = None


@pytest.fixture(scope="module", autouse=True)
def _torch():
    global torch
    torch = pytest.importorskip("torch")


RTOL = 1e-10
BASE = TrainConfig(target="sin20", n_train=60, width=6, batch_size=10, steps=300, lr=0.05)
OPTIMIZERS = [{"optimizer": "sgd", "lr": 0.05}, {"optimizer": "momentum", "lr": 0.02},
              {"optimizer": "nesterov", "lr": 0.02}, {"optimizer": "adam", "lr": 0.01}]


def _activation(cfg: TrainConfig):
    return {"relu": torch.nn.ReLU(), "leaky_relu": torch.nn.LeakyReLU(cfg.leaky_slope),
            "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid()}[cfg.activation]


def _names(depth: int) -> list[str]:
    return ["w", "b"] + [n for k in range(2, depth + 1) for n in (f"w{k}", f"b{k}")] + ["v", "c"]


def _torch_tensors(model, depth: int) -> dict:
    """torch's parameters under reluviz's history names (numpy copies)."""
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    out = {"w": linears[0].weight[:, 0], "b": linears[0].bias}
    for k in range(2, depth + 1):
        out[f"w{k}"], out[f"b{k}"] = linears[k - 1].weight, linears[k - 1].bias
    out["v"], out["c"] = linears[-1].weight[0], linears[-1].bias[0]
    return {k: t.detach().numpy().copy() for k, t in out.items()}


def replay(rec: dict, cfg: TrainConfig, rtol: float = RTOL) -> int:
    """Replay ``rec`` (arrays of a deep recording) in torch, checking every step; returns the steps."""
    depth, h = cfg.depth, cfg.width
    names = _names(depth)
    lrs, losses = np.asarray(rec["lr"]), np.asarray(rec["batch_loss"])
    steps = rec["w"].shape[0] - 1  # (a run file also holds the last row's next batch)
    n = len(rec["x_train"])  # (a full-batch run stores no batches: each is every point in order)
    batches = np.asarray(rec["batch"]) if cfg.batch_size else np.tile(np.arange(n), (steps, 1))
    assert steps > 0 and len(batches) >= steps and rec["w"].shape == (steps + 1, h)
    for k in range(2, depth + 1):
        assert rec[f"w{k}"].shape == (steps + 1, h, h) and rec[f"b{k}"].shape == (steps + 1, h)
    layers = [torch.nn.Linear(1, h)]
    for _ in range(depth - 1):
        layers += [_activation(cfg), torch.nn.Linear(h, h)]
    model = torch.nn.Sequential(*layers, _activation(cfg), torch.nn.Linear(h, 1)).double()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        linears[0].weight.copy_(torch.from_numpy(rec["w"][0].reshape(h, 1)))
        linears[0].bias.copy_(torch.from_numpy(rec["b"][0]))
        for k in range(2, depth + 1):
            linears[k - 1].weight.copy_(torch.from_numpy(rec[f"w{k}"][0]))
            linears[k - 1].bias.copy_(torch.from_numpy(rec[f"b{k}"][0]))
        linears[-1].weight.copy_(torch.from_numpy(rec["v"][0].reshape(1, h)))
        linears[-1].bias.copy_(torch.tensor([rec["c"][0]], dtype=torch.float64))
    hidden = [p for lin in linears[:-1] for p in lin.parameters()]
    output = list(linears[-1].parameters())
    frozen = {"output": hidden, "hidden": output}.get(cfg.train, [])
    for p in frozen:
        p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                               weight_decay=2 * cfg.ridge)  # (torch's weight decay is 2 lambda of the ridge)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.0 if cfg.optimizer == "sgd" else cfg.momentum,
                              nesterov=cfg.optimizer == "nesterov", weight_decay=2 * cfg.ridge)
    x = torch.tensor(np.asarray(rec["x_train"]), dtype=torch.float64).reshape(-1, 1)
    y = torch.tensor(np.asarray(rec["y_train"]), dtype=torch.float64).reshape(-1, 1)
    scale = np.max([np.abs(rec[n].reshape(steps + 1, -1)).max(axis=1) for n in names if n != "c"]
                   + [np.abs(rec["c"])], axis=0)
    loss_fn = torch.nn.MSELoss()
    for t in range(steps):
        assert opt.param_groups[0]["lr"] == pytest.approx(lrs[t], rel=1e-15)
        idx = torch.from_numpy(batches[t])
        loss = loss_fn(model(x[idx]), y[idx])
        assert loss.item() == pytest.approx(losses[t], rel=rtol), f"minibatch loss differs at step {t}"
        opt.zero_grad()
        loss.backward()
        opt.step()
        got = _torch_tensors(model, depth)
        for name in names:
            err = np.max(np.abs(got[name] - rec[name][t + 1])) / scale[t + 1]
            assert err <= rtol, f"{name} differs at step {t + 1}: relative error {err:.3g}"
    return steps


def _train_cli(tmp_path, settings: dict, steps: int) -> tuple[dict, TrainConfig]:
    out = tmp_path / "h.npz"
    args = ["train", "--steps", str(steps), "--record-batches", "--every", "1", "--out", str(out), "--quiet"]
    defaults = TrainConfig().to_dict()
    values = {**BASE.to_dict(), **settings}
    for key, value in values.items():  # (the command line refuses a setting the run would not use)
        if value != defaults[key] and SETTINGS[key].applies(values):
            args += ["--set", f"{key}={value}"]
    assert main(args) == 0
    with np.load(out) as h:
        rec = {k: h[k] for k in h.files}
    return rec, TrainConfig.from_dict(json.loads(str(rec["config"])))


@pytest.mark.parametrize("ridge", [0.0, 0.005], ids=["plain", "ridge"])
@pytest.mark.parametrize("train", ["all", "hidden", "output"])
@pytest.mark.parametrize("opt", OPTIMIZERS, ids=[o["optimizer"] for o in OPTIMIZERS])
@pytest.mark.parametrize("depth", [2, 3])
def test_reluviz_train_deep_matches_torch_optim(tmp_path, depth, opt, train, ridge):
    rec, cfg = _train_cli(tmp_path, {"depth": depth, "train": train, "ridge": ridge, **opt}, 150)
    assert cfg.depth == depth and cfg.train == train
    assert replay(rec, cfg) == 150
    frozen = {"output": _names(depth)[:-2], "hidden": ["v", "c"]}.get(train, [])
    for name in frozen:
        assert np.array_equal(rec[name][-1], rec[name][0])
    moving = [n for n in _names(depth) if n not in frozen]
    assert all(not np.array_equal(rec[n][-1], rec[n][0]) for n in moving)


@pytest.mark.parametrize("activation", ["leaky_relu", "tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("depth", [1, 3])
def test_other_activations_match_torch(tmp_path, activation, depth):
    settings = {"depth": depth, "activation": activation, "leaky_slope": 0.2, "optimizer": "adam", "lr": 0.01,
                "ridge": 0.005}
    rec, cfg = _train_cli(tmp_path, settings, 200)
    assert replay(rec, cfg) == 200


def test_full_batch_and_shuffled_batches_of_a_deep_net_match_torch():
    for settings in ({"batch_size": 0, "optimizer": "momentum", "lr": 0.02}, {"sampling": "shuffle"}):
        cfg = BASE.updated({"depth": 2, **settings})
        rec = record_run(cfg, steps=120, every=1, record_batches=True)
        assert replay(rec.arrays, cfg) == 120


def test_depth_one_history_keeps_its_format(tmp_path):
    """Depth 1 files hold w, b, v (T, H) and c (T,) as before issue 12, and no deeper layer."""
    import re

    rec, _ = _train_cli(tmp_path, {"depth": 1}, 5)
    assert rec["w"].shape == rec["b"].shape == rec["v"].shape == (6, BASE.width) and rec["c"].shape == (6,)
    assert not [k for k in rec if re.fullmatch(r"[wb]\d+", k)]
    deep, _ = _train_cli(tmp_path, {"depth": 3}, 5)
    assert {k for k in deep if re.fullmatch(r"[wb]\d+", k)} == {"w2", "b2", "w3", "b3"}

"""Which implementation trains: compiled numba kernels or the NumPy reference.

``RELUVIZ_BACKEND=numpy|numba`` chooses (default: numba when it can be imported). The NumPy path
(``GradientWorkspace`` in model.py, ``Updater`` in optimizers.py) is the readable reference and the
fallback; ``reluviz.core.compiled_steps`` runs many steps per call without holding the GIL.

Compiling takes seconds the first time and is cached on disk (numba's cache: beside the module, or
in the user's cache folder when the installation is read-only; ``NUMBA_CACHE_DIR`` overrides). A
``Trainer`` asks ``compiled()`` at every stretch of steps: with ``wait=False`` (the app) it gets
None until ``warm_up()`` has finished in the background, and trains with NumPy meanwhile.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_state = {"module": None, "ready": False, "error": "", "seconds": 0.0, "thread": None}


def requested() -> str:
    """``numba`` or ``numpy``: the environment's choice (``RELUVIZ_BACKEND``), numba by default."""
    choice = os.environ.get("RELUVIZ_BACKEND", "numba").strip().lower()
    return "numpy" if choice == "numpy" else "numba"


def _import():
    if _state["module"] is None and not _state["error"]:
        try:
            from reluviz.core import compiled_steps
        except ImportError as exc:  # numba missing or broken: the NumPy path trains
            _state["error"] = f"numba is not available ({exc})"
        else:
            _state["module"] = compiled_steps
    return _state["module"]


def _compile(module) -> None:
    """Run the kernels once on tiny inputs of the exact argument types they are called with."""
    import numpy as np

    t0 = time.perf_counter()
    for model, h, depth in ((module.RELU, 2, 1), (module.CONSTANT, 0, 1), (module.GENERAL, 2, 2)):
        p = {module.RELU: 3 * h + 1, module.CONSTANT: 1, module.GENERAL: 3 * h + 1 + h * h + h}[model]
        st = np.zeros((1, 3 * p))
        net = (model, h, depth, module.A_TANH, 0.01, p)
        module.run_stretch(*net, 3, st, st.copy(), 0, np.zeros(4), np.zeros(4), np.zeros((1, 1, 2), np.int64),
                           False, 2, np.zeros((1, 1)), 0, 1, np.ones(p), False, np.zeros(1), 0.9, 0.9, 0.999, 1e-8, 1e10,
                           np.zeros(1, bool), np.zeros((1, 1, 3 * p)), np.zeros((1, 1)), True, np.zeros(1))
        module.batch_losses(*net, st, np.zeros(4), np.zeros(4), np.zeros((1, 2), np.int64), False, 2,
                            np.zeros(1, bool), np.zeros(1))
    module.relu_sse(np.zeros(7), 2, np.zeros(4), np.zeros(4))
    _state["seconds"] = time.perf_counter() - t0


def compiled(wait: bool = True):
    """The compiled kernels module, or None (NumPy backend chosen, numba missing, or, with
    ``wait=False``, not compiled yet). With ``wait`` it compiles (or loads from the cache) now."""
    if requested() != "numba":
        return None
    if _state["ready"]:
        return _state["module"]
    if not wait:
        return None
    with _lock:
        if not _state["ready"]:
            module = _import()
            if module is None:
                return None
            _compile(module)
            _state["ready"] = True
    return _state["module"]


def supports(layout, optimizer: str) -> bool:
    """Whether the compiled kernels train this model (a ``reluviz.core.model.Layout``) with this
    optimizer (else NumPy does)."""
    module = _state["module"] if _state["ready"] else _import()
    return (module is not None and layout.model in module.MODEL_CODES and optimizer in module.OPTIMIZER_CODES
            and layout.activation in module.ACTIVATION_CODES)


def warm_up() -> threading.Thread | None:
    """Compile (or load) the kernels on a background thread; returns it (None: nothing to do)."""
    if requested() != "numba" or _state["ready"]:
        return None
    with _lock:
        thread = _state["thread"]
        if thread is None:
            thread = threading.Thread(target=compiled, name="reluviz-compile", daemon=True)
            _state["thread"] = thread
            thread.start()
    return thread


def compiling() -> bool:
    """The kernels are being compiled in the background (``warm_up``) and are not ready yet."""
    thread = _state["thread"]
    return thread is not None and thread.is_alive() and not _state["ready"]


def status() -> str:
    """One line for people: which backend trains, and the compile time."""
    if requested() != "numba":
        return "NumPy (RELUVIZ_BACKEND=numpy)"
    if _state["error"]:
        return f"NumPy ({_state['error']})"
    if _state["ready"]:
        return f"numba (compiled or loaded in {_state['seconds']:.1f} s)"
    return "NumPy while numba compiles"

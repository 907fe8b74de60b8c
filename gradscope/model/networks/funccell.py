"""`FuncCell`: any step function or `torch.nn.Module` as a cell, differentiated by
`torch.func`.

    cell = FuncCell(lambda s, x: torch.tanh(W @ s + U @ x), state_size=64, input_size=8)
    cell = FuncCell(step, state_size=64, input_size=8, params={"weight_hh": W, ...})
    cell = FuncCell.from_module(torch.nn.LSTMCell(8, 64))   # state (h, c), flattened [h; c]

The step is written for one example, without batch axes: `step(s, x) -> s` (or
`step(s, x, params) -> s` when `params` is given), `s` of shape `(state_size,)` or a
tuple of such vectors (`state_size=(N, N)` for an LSTM's `(h, c)`), `x` of shape
`(input_size,)`. A module is called as PyTorch's cells are, `module(x, state)`.
Tuple states are flattened in order, the first part first (`[h; c]`); the readout acts
on the first part. `vmap` adds the trials and a chunk of steps; `jacrev` gives the
state and input Jacobians in one pass; `vjp` gives the weight gradient of each step,
over the parameters named in `recurrent` (default: those called `weight_hh*`, else all),
so the downstream transport, spectrum and figures are those of the built-in cells.

Parameters are shared by every trial (a model's fixed weights), or one set per trial
with `per_trial=True` (a leading trial axis on each).

May import: `gradscope.model.contract`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch.func import functional_call, jacrev, vjp, vmap

from ..contract import CellBase

Tensor = torch.Tensor

#: Numbers that one vmap chunk of Jacobian rows may hold in its intermediates.
CHUNK_BUDGET = 1 << 22


class FuncCell(CellBase):
    """A cell from a step function, with Jacobians and weight gradients by `torch.func`.

    Arguments:
        step: `step(s, x) -> s`, or `step(s, x, params) -> s` when `params` is given;
            one example, no batch axes (see the module docstring).
        state_size: the size of the state, or a tuple of sizes for a tuple state.
        input_size: the size of one input vector.
        params: name -> tensor, passed to `step` (and differentiated for the weight
            gradient); shared by all trials unless `per_trial`.
        per_trial: each parameter has a leading trial axis of length `trials`.
        trials: B (the protocol's `trials`; the computations take any B).
        recurrent: the parameters whose gradient is the weight-gradient curve
            (default: names whose last part starts with `weight_hh`, else all).
        chunk_size: steps per `vmap` chunk in `linearize` (default: from CHUNK_BUDGET).
    """

    kind = "custom"

    def __init__(
        self,
        step: Callable[..., Any],
        state_size: int | Sequence[int],
        input_size: int,
        *,
        params: Mapping[str, Tensor] | None = None,
        per_trial: bool = False,
        trials: int = 1,
        recurrent: Sequence[str] | None = None,
        chunk_size: int | None = None,
    ) -> None:
        self.tuple_state = not isinstance(state_size, int)
        try:
            if isinstance(state_size, (str, bytes)):
                raise TypeError
            self.sizes = tuple(int(n) for n in (state_size if self.tuple_state else (state_size,)))
        except (TypeError, ValueError):
            raise ValueError(f"FuncCell: state_size must be a number or a tuple of numbers, "
                             f"got {state_size!r}") from None
        if not self.sizes or min(self.sizes) < 1 or not isinstance(input_size, int) or input_size < 1:
            raise ValueError(f"FuncCell: state_size {state_size!r} and input_size {input_size!r} must be positive")
        self._step = step
        self.takes_params = params is not None
        self.params = {k: v.detach() for k, v in (params or {}).items()}
        self.per_trial = per_trial
        if per_trial and any(v.shape[:1] != (trials,) for v in self.params.values()):
            raise ValueError(f"FuncCell: per_trial params need a leading axis of length trials={trials}")
        names = list(self.params)
        default = [n for n in names if n.rsplit(".", 1)[-1].startswith("weight_hh")] or names
        self.recurrent = tuple(recurrent if recurrent is not None else default)
        missing = [n for n in self.recurrent if n not in self.params]
        if missing:
            raise ValueError(f"FuncCell: recurrent names {missing} are not among the params {names}")
        self.trials, self.input_size = trials, input_size
        self.hidden, self.state_dim = self.sizes[0], sum(self.sizes)
        self.chunk_size = chunk_size
        self._cast: dict[tuple, dict[str, Tensor]] = {}

    @classmethod
    def from_module(
        cls, module: torch.nn.Module, state_size: int | Sequence[int] | None = None,
        input_size: int | None = None, **kw: Any,
    ) -> FuncCell:
        """A cell from a module called as PyTorch's cells are: `module(x, state) -> state`.

        `state_size` defaults to `module.state_size`, else `(hidden_size, hidden_size)`
        for an `nn.LSTMCell` and `hidden_size` otherwise; `input_size` to
        `module.input_size`. The weight gradient is over `weight_hh*` parameters (else
        every parameter) unless `recurrent` names others.
        """
        if state_size is None:
            state_size = getattr(module, "state_size", None)
        if state_size is None and hasattr(module, "hidden_size"):
            n = int(module.hidden_size)
            state_size = (n, n) if isinstance(module, torch.nn.LSTMCell) else n
        input_size = input_size if input_size is not None else getattr(module, "input_size", None)
        if state_size is None or input_size is None:
            raise ValueError(f"{type(module).__name__}: declare its state size and input size (attributes "
                             "state_size and input_size, or FuncCell.from_module(m, state_size=..., input_size=...))")
        names = [n for n, _ in module.named_parameters()]
        kw.setdefault("recurrent", [n for n in names if n.rsplit(".", 1)[-1].startswith("weight_hh")] or names)
        tensors = {**dict(module.named_parameters()), **dict(module.named_buffers())}

        def step(state: Any, x: Tensor, p: dict[str, Tensor]) -> Any:
            return functional_call(module, p, (x, state))

        return cls(step, state_size, int(input_size), params=tensors, **kw)

    # -- one example -----------------------------------------------------------------
    def _f(self, s: Tensor, x: Tensor, p: dict[str, Tensor]) -> Tensor:
        state = tuple(torch.split(s, self.sizes)) if self.tuple_state else s
        out = self._step(state, x, p) if self.takes_params else self._step(state, x)
        if self.tuple_state:
            out = torch.cat([o.reshape(-1) for o in out])
        return out

    def _jac(self, s: Tensor, x: Tensor, p: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        return jacrev(self._f, argnums=(0, 1))(s, x, p)

    def _weight_grad_norm(self, s: Tensor, x: Tensor, g: Tensor, p: dict[str, Tensor]) -> Tensor:
        rec = {k: p[k] for k in self.recurrent}
        _, pull = vjp(lambda r: self._f(s, x, {**p, **r}), rec)
        (grads,) = pull(g)
        return torch.sqrt(sum((v.to(torch.float64) ** 2).sum() for v in grads.values()))

    # -- batched over trials and steps -----------------------------------------------
    def _params(self, like: Tensor) -> dict[str, Tensor]:
        key = (like.dtype, like.device)
        if key not in self._cast:
            self._cast[key] = {k: v.to(device=like.device, dtype=like.dtype if v.is_floating_point() else v.dtype)
                               for k, v in self.params.items()}
        return self._cast[key]

    def _map(self, fn: Callable[..., Any], tensors: Sequence[Tensor], chunk: int | None = None) -> Any:
        """`fn(one row of each tensor, params)` over the trial axis and any leading axes.
        What the user's code raises comes back as a one-line `CustomCellError`."""
        lead, trials = tensors[0].shape[:-2], tensors[0].shape[-2]
        flat = [t.reshape(-1, trials, t.shape[-1]) for t in tensors]
        dims = (0,) * len(flat)
        inner = vmap(fn, in_dims=(*dims, 0 if self.per_trial else None))
        try:
            out = vmap(inner, in_dims=(*dims, None), chunk_size=chunk)(*flat, self._params(tensors[0]))
            return torch.utils._pytree.tree_map(lambda o: o.reshape(*lead, trials, *o.shape[2:]), out)
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:
            raise CustomCellError(f"custom cell: its step raised {_describe(exc)}") from None

    def _chunk(self, trials: int) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        width = max(self.state_dim, self.input_size, 1)
        return max(1, CHUNK_BUDGET // (trials * self.state_dim * width * 4))

    def step(self, s: Tensor, x: Tensor) -> Tensor:
        """`s_t = F(s_{t-1}, x_t)`: states `(..., B, D)`, inputs `(..., B, I)`."""
        out = self._map(self._f, (s, x))
        if not isinstance(out, Tensor) or tuple(out.shape) != tuple(s.shape):
            got = tuple(out.shape[s.ndim - 1 :]) if isinstance(out, Tensor) else type(out).__name__
            raise CustomCellError(f"custom cell: its step returned {got} per example; the declared state has "
                                  f"{self.state_dim} numbers ({self.sizes})")
        return out

    def linearize(self, s: Tensor, x: Tensor) -> dict[str, Tensor]:
        """Both Jacobians at `(s_{t-1}, x_t)` in one `jacrev` pass, chunked over steps."""
        jac, input_jac = self._map(self._jac, (s, x), self._chunk(s.shape[-2]))
        return {"s": s, "x": x, "jac": jac, "input_jac": input_jac}

    def jacobian(self, lin: dict[str, Tensor]) -> Tensor:
        return lin["jac"]

    def input_jacobian(self, lin: dict[str, Tensor]) -> Tensor:
        return lin["input_jac"]

    def weight_grad_norms(self, lin: dict[str, Tensor], g: Tensor, s_prev: Tensor | None = None) -> Tensor:
        """`||dL/d(recurrent params)|_t||` `(..., B)` (float64) for `g = dL/ds_t` (the
        states come with `lin`); NaN for a cell without parameters."""
        if not self.recurrent:
            return torch.full(g.shape[:-1], math.nan, dtype=torch.float64, device=g.device)
        return self._map(self._weight_grad_norm, (lin["s"], lin["x"], g), self._chunk(g.shape[-2]))

    def hidden_part(self, s: Tensor) -> Tensor:
        """The first part of the state (`h` of an `(h, c)` state): what the readout sees."""
        return s[..., : self.hidden]

    def params_count(self) -> int:
        """Numbers in the parameters of one network (per trial when `per_trial`)."""
        return sum(int(v[0].numel() if self.per_trial else v.numel()) for v in self.params.values())

    def check(self, dtype: torch.dtype, device: torch.device | str = "cpu") -> None:
        """One step on zeros: a step that raises, or returns the wrong shape, says so in one line."""
        try:
            s = torch.zeros((1, self.trials if self.per_trial else 1, self.state_dim), dtype=dtype, device=device)
            x = torch.zeros((1, s.shape[1], self.input_size), dtype=dtype, device=device)
        except (RuntimeError, MemoryError):
            raise ValueError(f"custom cell: its state ({self.state_dim} numbers) and input ({self.input_size}) "
                             "do not fit in memory") from None
        try:
            self.step(s, x)
        except CustomCellError as exc:
            raise ValueError(str(exc).replace("its step raised", "one step on zeros raised")) from None
        except Exception as exc:  # the user's code: say what it raised, in one line
            raise ValueError(f"custom cell: one step on zeros raised {_describe(exc)}") from None


class CustomCellError(RuntimeError):
    """What a custom cell's own code raised, in one line (the CLI prints it as it is)."""


def _describe(exc: BaseException) -> str:
    """`Type: first line of the message (file:line in the user's code)`, never raising."""
    import traceback

    try:
        text = str(exc).splitlines()[0] if str(exc) else ""
    except Exception:
        text = "(its message could not be printed)"
    where = ""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if "/torch/" not in f.filename and "/gradscope/" not in f.filename]
        if frames:
            where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    except Exception:
        pass
    return f"{type(exc).__name__}: {text}{where}"[:300]

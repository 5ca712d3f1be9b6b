"""nn.LSTM, nn.GRU and nn.RNN written out step by step, so PT2E quantizes every piece to int8.

The converter unrolls ``aten.lstm``/``aten.gru`` itself, after quantization, into float
FULLY_CONNECTED, SLICE, LOGISTIC, TANH, MUL and ADD ops: the quantizer never sees the pieces.
These modules compute the same function from parts it does see (``nn.Linear``, ``+``, ``*``,
``torch.sigmoid``, ``torch.tanh``), one step at a time, so each piece gets its own observer and
becomes an int8 TFLM op (FULLY_CONNECTED, ADD, SUB, MUL, LOGISTIC, TANH; the steps are gathered
with PACK). Every gate has its own ``nn.Linear`` for the input and for the hidden state (no
split of one wide product: each gate keeps its own scale). The hidden state of the first step
is zero unless one is passed, so that step uses only the input products (exact: the hidden
products of a zero state are their biases, folded into the input ones).

Numerically each module equals the one it replaces in float (tested); the module paths stay
the same, so `check` and the per-layer report keep naming the user's layers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

LSTM_GATES = ("i", "f", "g", "o")  # PyTorch's order of the four blocks of weight_ih/weight_hh
GRU_GATES = ("r", "z", "n")


class UnsupportedRecurrence(ValueError):
    """An option of nn.LSTM/nn.GRU that has no step-by-step int8 form here."""


def _linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    layer.weight.data.copy_(weight.detach())
    if bias is not None:
        layer.bias.data.copy_(bias.detach())
    return layer


def _check(rnn: nn.RNNBase) -> None:
    if getattr(rnn, "proj_size", 0):
        raise UnsupportedRecurrence("nn.LSTM with proj_size has no int8 step form here")


class _Cell(nn.Module):
    """One layer and direction: per gate, input and hidden ``nn.Linear``; ``forward`` is one
    step. It is called as a module, and so are its state and hidden-state leaves, so the
    converter names every tensor of a step after ``rnn.cells.l0`` (``l0_reverse``, ``l1``... as
    in PyTorch's weight names) and the per-layer report finds each step's products, cell state
    and hidden state (:mod:`edgecraft.optimize.layers`)."""

    def __init__(self, rnn: nn.RNNBase, layer: int, suffix: str, gates: tuple[str, ...],
                 fold_hidden_bias: tuple[str, ...]) -> None:
        super().__init__()
        h = rnn.hidden_size
        w_ih = getattr(rnn, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(rnn, f"weight_hh_l{layer}{suffix}")
        b_ih = getattr(rnn, f"bias_ih_l{layer}{suffix}", None) if rnn.bias else None
        b_hh = getattr(rnn, f"bias_hh_l{layer}{suffix}", None) if rnn.bias else None
        for k, gate in enumerate(gates):
            part = slice(k * h, (k + 1) * h)
            bias_i = b_ih[part] if b_ih is not None else None
            bias_h = b_hh[part] if b_hh is not None else None
            if gate in fold_hidden_bias and bias_h is not None:
                # LSTM gates and GRU's r/z: the two biases only ever appear summed
                bias_i = bias_h if bias_i is None else bias_i + bias_h
                bias_h = None
            setattr(self, f"x{gate}", _linear(w_ih[part], bias_i))
            setattr(self, f"h{gate}", _linear(w_hh[part], bias_h))
            if bias_h is not None:
                self.register_buffer(f"b{gate}", bias_h.detach().clone())

    def x(self, gate: str, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = getattr(self, f"x{gate}")(x)
        return out

    def h(self, gate: str, h: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = getattr(self, f"h{gate}")(h)
        return out

    def pre(self, gate: str, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """The gate's input product plus its hidden product (none for a zero state)."""
        return self.x(gate, x) if h is None else self.x(gate, x) + self.h(gate, h)


class _CellState(nn.Module):
    """LSTM's cell state of one step: ``f * c + i * g`` (``i * g`` from a zero state)."""

    def forward(self, i: torch.Tensor, f: torch.Tensor | None, g: torch.Tensor,
                c: torch.Tensor | None) -> torch.Tensor:
        """The new cell state."""
        return i * g if c is None or f is None else f * c + i * g


class _LSTMHidden(nn.Module):
    """LSTM's hidden state of one step: ``o * tanh(c)``."""

    def forward(self, o: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """The new hidden state."""
        return o * torch.tanh(c)


class _GRUHidden(nn.Module):
    """GRU's hidden state of one step: ``n + z * (h - n)`` (``n - z * n`` from a zero state)."""

    def forward(self, n: torch.Tensor, z: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """The new hidden state."""
        return n - z * n if h is None else n + z * (h - n)


class _LSTMCell(_Cell):
    def __init__(self, rnn: nn.RNNBase, layer: int, suffix: str) -> None:
        super().__init__(rnn, layer, suffix, LSTM_GATES, LSTM_GATES)
        self.cell = _CellState()
        self.hidden = _LSTMHidden()

    def forward(self, x: torch.Tensor, h: torch.Tensor | None,
                c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: (h, c) -> (h', c')."""
        # from a zero state the forget gate multiplies nothing: it is not computed at all
        pre = {gate: self.pre(gate, x, h) for gate in LSTM_GATES if gate != "f" or c is not None}
        i, o = torch.sigmoid(pre["i"]), torch.sigmoid(pre["o"])
        f = torch.sigmoid(pre["f"]) if c is not None else None
        c = self.cell(i, f, torch.tanh(pre["g"]), c)
        h = self.hidden(o, c)
        assert h is not None
        return h, c


class _GRUCell(_Cell):
    def __init__(self, rnn: nn.RNNBase, layer: int, suffix: str) -> None:
        super().__init__(rnn, layer, suffix, GRU_GATES, ("r", "z"))
        self.hidden = _GRUHidden()

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """One step: h -> h'."""
        if h is None:  # zero state: W_h* h vanish, W_hn h + b_hn is the bias alone
            r, z = torch.sigmoid(self.x("r", x)), torch.sigmoid(self.x("z", x))
            bias = getattr(self, "bn", None)
            n = torch.tanh(self.x("n", x) if bias is None else self.x("n", x) + r * bias)
        else:
            r, z = torch.sigmoid(self.pre("r", x, h)), torch.sigmoid(self.pre("z", x, h))
            n = torch.tanh(self.x("n", x) + r * self.h("n", h))
        out: torch.Tensor = self.hidden(n, z, h)
        return out


class _RNNCell(_Cell):
    def __init__(self, rnn: nn.RNNBase, layer: int, suffix: str) -> None:
        super().__init__(rnn, layer, suffix, ("a",), ("a",))
        self.hidden = nn.Tanh() if rnn.nonlinearity == "tanh" else nn.ReLU()

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        """One step: h -> h'."""
        out: torch.Tensor = self.hidden(self.pre("a", x, h))
        return out


def _cells(rnn: nn.RNNBase, cell: type[_Cell]) -> nn.ModuleDict:
    return nn.ModuleDict({f"l{layer}{d}": cell(rnn, layer, d)  # type: ignore[call-arg]
                          for layer in range(rnn.num_layers) for d in _directions(rnn)})


def _directions(rnn: nn.RNNBase) -> list[str]:
    return ["", "_reverse"] if rnn.bidirectional else [""]


def _steps(x: torch.Tensor, batch_first: bool) -> list[torch.Tensor]:
    if x.dim() != 3:
        raise UnsupportedRecurrence("the step-by-step int8 form needs a batched (3-D) input")
    axis = 1 if batch_first else 0
    return [x.select(axis, t) for t in range(x.shape[axis])]  # selects share the input's grid


def _initial(hx: Any, index: int) -> torch.Tensor | None:
    if hx is None:
        return None
    state: torch.Tensor = hx[index]
    return state


class StepLSTM(nn.Module):
    """A drop-in for an ``nn.LSTM`` (any layers, bidirectional, batch-first or not; no
    ``proj_size``): ``forward(x, (h0, c0)=None) -> (y, (h_n, c_n))``, step by step."""

    STEP = True  # substitute() leaves its children alone

    def __init__(self, rnn: nn.LSTM) -> None:
        super().__init__()
        _check(rnn)
        self.batch_first = rnn.batch_first
        self.num_layers = rnn.num_layers
        self.directions = _directions(rnn)
        self.cells = _cells(rnn, _LSTMCell)

    def forward(self, x: torch.Tensor,
                hx: Any = None) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Same as ``nn.LSTM.forward`` on a batched input."""
        xs = _steps(x, self.batch_first)
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, direction in enumerate(self.directions):
                k = layer * len(self.directions) + d
                h = _initial(hx[0], k) if hx is not None else None
                c = _initial(hx[1], k) if hx is not None else None
                ys = []
                for step in (xs if not direction else xs[::-1]):
                    h, c = self.cells[f"l{layer}{direction}"](step, h, c)
                    ys.append(h)
                assert h is not None and c is not None
                outs.append(ys if not direction else ys[::-1])
                hs.append(h)
                cs.append(c)
            xs = [torch.cat(parts, -1) for parts in zip(*outs, strict=True)] if len(outs) > 1 else outs[0]
        y = torch.stack(xs, 1 if self.batch_first else 0)
        return y, (torch.stack(hs, 0), torch.stack(cs, 0))


class StepGRU(nn.Module):
    """A drop-in for an ``nn.GRU`` (any layers, bidirectional, batch-first or not):
    ``forward(x, h0=None) -> (y, h_n)``, step by step. ``n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn))`` and ``h' = n + z * (h - n)`` (= (1 - z) n + z h)."""

    STEP = True

    def __init__(self, rnn: nn.GRU) -> None:
        super().__init__()
        self.batch_first = rnn.batch_first
        self.num_layers = rnn.num_layers
        self.directions = _directions(rnn)
        self.cells = _cells(rnn, _GRUCell)

    def forward(self, x: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Same as ``nn.GRU.forward`` on a batched input."""
        return _run_simple(self, x, hx)


class StepRNN(nn.Module):
    """A drop-in for an ``nn.RNN`` (tanh or relu; any layers, bidirectional, batch-first or
    not): ``forward(x, h0=None) -> (y, h_n)``, step by step."""

    STEP = True

    def __init__(self, rnn: nn.RNN) -> None:
        super().__init__()
        self.batch_first = rnn.batch_first
        self.num_layers = rnn.num_layers
        self.directions = _directions(rnn)
        self.cells = _cells(rnn, _RNNCell)

    def forward(self, x: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Same as ``nn.RNN.forward`` on a batched input."""
        return _run_simple(self, x, hx)


def _run_simple(rnn: StepGRU | StepRNN, x: torch.Tensor,
                hx: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """GRU and RNN layers: one state, each cell maps (x, h) -> h'."""
    xs = _steps(x, rnn.batch_first)
    hs = []
    for layer in range(rnn.num_layers):
        outs = []
        for d, direction in enumerate(rnn.directions):
            h = _initial(hx, layer * len(rnn.directions) + d)
            ys = []
            for step in (xs if not direction else xs[::-1]):
                h = rnn.cells[f"l{layer}{direction}"](step, h)
                ys.append(h)
            assert h is not None
            outs.append(ys if not direction else ys[::-1])
            hs.append(h)
        xs = [torch.cat(parts, -1) for parts in zip(*outs, strict=True)] if len(outs) > 1 else outs[0]
    return torch.stack(xs, 1 if rnn.batch_first else 0), torch.stack(hs, 0)

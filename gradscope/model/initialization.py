"""The networks of a configuration, drawn for B trials: `build(config, streams)` gives
the batched cell (each trial's weights from the cell's own `draw_weights`), the initial
states and the readouts (`model.draws`: the seeded streams and what they draw).

May import: `gradscope.model.cells`, `gradscope.model.draws`, `gradscope.config`.
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import Config, cell_spec
from ..config.choices import OPTION_FIELDS
from .cells import CELL_CLASSES
from .draws import draw_states_and_readouts, trial_streams  # noqa: F401  (trial_streams: public here too)


def build(config: Config, streams: list[dict[str, np.random.Generator]]) -> tuple:
    """The batched cell, initial states `(B, D)` and unit readouts `(B, N)` on the device:
    each trial's weights drawn by the cell's own `draw_weights` from its `weights` stream."""
    dtype = getattr(torch, config.torch_dtype_name)
    device = torch.device(config.device)

    def tensor(arrays: list[np.ndarray]) -> torch.Tensor:
        return torch.as_tensor(np.stack(arrays), dtype=dtype, device=device)

    cls = CELL_CLASSES[config.cell]
    weights = [cls.draw_weights(config, s["weights"]) for s in streams]
    options = {k: config.cell_option(k) for k in cell_spec(config.cell).options if k in OPTION_FIELDS}
    cell = cls(**{k: tensor([w[k] for w in weights]) for k in weights[0]},
               act=config.act, gate_act=config.gate_act, **options)
    h0, readouts = draw_states_and_readouts(streams, config.state_dim, config.hidden, config.h0_std)
    return cell, cell.initial_state(tensor(h0)), tensor(readouts)

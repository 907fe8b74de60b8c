"""`analyze_module(module, inputs=batch) -> Result`: a network in memory, analysed as
`gradscope decay --checkpoint` analyses a saved one, with no file written.

    result = analyze_module(model.lstm)                       # noise input, N(0, 1)
    result = analyze_module(model.lstm, inputs=x, lags=(30,)) # on a batch of the training inputs

The module is read through `model.networks.memory` (PyTorch's recurrent modules, stacked
or not, a model holding one of them, or a cell module of the user's), its weights fixed
as a checkpoint's are; `inputs` become the trials' input streams
(`memory.batch_streams`), repeated when shorter than transient + steps. The numbers are
those of `decay --checkpoint` on the module's saved state dict and, with `inputs`, of
`--input` on the same streams saved as `.npy` (`--input-loop` where they repeat).

May import: `gradscope.analysis`, `gradscope.model`, `gradscope.config`, `gradscope.results`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config import Config
from ..results import Result

#: The configuration `analyze_module` and the training monitor start from: one analysis
#: of a 64-unit LSTM in about a second on one core (300 lags, 4 trials, lambda_1..4).
MODULE_DEFAULTS = {"steps": 300, "transient": 100, "trials": 4, "exponents": 4}
#: What a configuration calls inputs held in memory.
MEMORY_INPUTS = "memory:inputs.npy"


def module_config(found: Any, inputs: Any = None, **options: Any) -> tuple[Config, Any]:
    """`(config, streams)`: the configuration that analyses `found`
    (`memory.FoundModule`) with `options` (`Config` fields over `MODULE_DEFAULTS`), and
    the input streams `(L, B, I)` of `inputs` (None without them). `config.checkpoint`
    (or `cell`) and `input` name what is in memory (`memory:...`); `input_loop` says
    whether the streams repeat. Raises `ValueError` for an option that does not fit."""
    from ..model.networks.memory import batch_streams

    fields = {**MODULE_DEFAULTS, **options}
    for key in ("checkpoint", "cell", "cell_args", "module", "input", "input_loop"):
        if key in fields and key not in MODULE_DEFAULTS:
            raise ValueError(f"{key} is set from the module and its inputs: drop it")
    if found.kind == "pytorch":
        fields.update(checkpoint=found.path)
        if found.type_name.startswith("RNN"):
            fields.setdefault("act", found.act)
    else:
        fields.update(cell=found.cell_spec)
    streams = None
    if inputs is not None:
        trials = int(fields.get("trials", Config().trials))
        streams = batch_streams(inputs, trials, found.batch_first)
        fields["input"] = MEMORY_INPUTS
        fields["input_loop"] = streams.shape[0] < int(fields.get("transient", Config().transient)) + int(
            fields.get("steps", Config().steps))
    return Config(**fields), streams


def memory_network(found: Any, config: Config, streams: Any = None) -> Any:
    """The `model.networks.UserNetwork` of a module in memory under `config`
    (`module_config`), its inputs `streams` checked and shaped for the analysis."""
    from ..model.inputs import shape_inputs
    from ..model.networks import UserNetwork, module_network
    from ..model.networks.memory import state_digest

    state = found.state()
    digest = {"in_memory": True, "path": f"(in memory: {found.type_name})", "sha256": state_digest(state)}
    if found.kind == "pytorch":
        net = module_network(config, found.recurrent(), record=digest)
    else:
        import torch

        cell = found.func_cell(config.trials)
        cell.check(getattr(torch, config.torch_dtype_name), config.device)
        record = {"cell": config.cell, "cell_args": {}, "state_dim": cell.state_dim, "hidden": cell.hidden,
                  "input_size": cell.input_size, "params": cell.params_count(), "recurrent": list(cell.recurrent),
                  **digest}
        resolved = dataclasses.replace(config, hidden=cell.hidden, input_size=cell.input_size,
                                       exponents=min(config.n_exponents, cell.state_dim)
                                       if config.exponents != "all" else cell.state_dim).resolved()
        net = UserNetwork(resolved, record, custom=cell)
    if streams is not None:
        c = net.config
        data = shape_inputs(streams, "inputs", c.transient + c.steps, c.trials, c.n_input, loop=True)
        net = dataclasses.replace(net, inputs=data)
        net.record["inputs"] = {"shape": list(streams.shape), "sha256": state_digest({"inputs": streams})}
    return net


def analyze_module(
    module: Any,
    inputs: Any = None,
    *,
    name: str | None = None,
    lags: Any = None,
    threads: int | None = None,
    progress: Any = None,
    strict: bool = False,
    command: str | None = None,
    **options: Any,
) -> Result:
    """Analyse a recurrent module in memory, as `decay --checkpoint` would a saved one.

    Arguments:
        module: `nn.RNN/LSTM/GRU` (stacked or not), their `*Cell`, a model holding one
            of them, or a cell module of the user's (see `model.networks.memory`).
        inputs: a batch of the training inputs `(T, N, I)` (`(N, T, I)` for a
            `batch_first` module), the drive of the analysis: trial j runs sequences
            j, j + B, ... one after another (repeated when shorter than transient +
            steps). None: the `input` option (default N(0, 1) noise).
        name: which recurrent module of `module`, when it holds several.
        lags: lags at which to report the gain, loss gradient and input sensitivity
            (`analyze(lags=...)`).
        threads, progress, strict, command: as for `analyze`.
        **options: `Config` fields (`steps`, `trials`, `exponents`, `seed`, `eps`,
            `spectral`, `dtype`, `h0_std`, `layer`, ...), over `MODULE_DEFAULTS`.

    Returns:
        The `Result`; its configuration names the module `memory:<Type>.pt` (and the
        inputs `memory:inputs.npy`), its provenance records the weights' sha256.

    Raises:
        ValueError: `module` is not recurrent (an `nn.Linear`), holds several recurrent
            modules and no `name`, or an option does not fit it (one line).
    """
    from ..model.networks.memory import find_recurrent
    from . import analyze

    found = find_recurrent(module, name)
    config, streams = module_config(found, inputs, **options)
    network = memory_network(found, config, streams)
    return analyze(network.config, progress=progress, strict=strict, command=command, threads=threads,
                   network=network, lags=lags)

"""A real Lightning `Trainer` (CPU, a few dozen steps) with `GradientFlowCallback`
writes the monitor's scalars through the trainer's own logger, at the training steps."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from monitor_helpers import SMALL, analyses

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning",
                                        "ignore::DeprecationWarning")


def _module():
    import lightning.pytorch as pl

    class Adding(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = torch.nn.Module()
            self.encoder.lstm = torch.nn.LSTM(2, 8, batch_first=True)
            self.head = torch.nn.Linear(8, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = ((self.head(self.encoder.lstm(x)[0][:, -1]).squeeze(-1) - y) ** 2).mean()
            self.log("loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-2)

        def train_dataloader(self):
            x = torch.rand(320, 12, 2, generator=torch.Generator().manual_seed(0))
            data = torch.utils.data.TensorDataset(x, x[:, :, 0].sum(1))
            return torch.utils.data.DataLoader(data, batch_size=16)

    return Adding()


def _trainer(logger, callback, steps: int = 40):
    import lightning.pytorch as pl

    return pl.Trainer(max_steps=steps, logger=logger, callbacks=[callback], accelerator="cpu", devices=1,
                      enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                      log_every_n_steps=1)


def test_the_callback_logs_through_the_trainers_csv_logger(tmp_path: Path) -> None:
    from lightning.pytorch.loggers import CSVLogger

    from gradscope.monitor import GradientFlowCallback

    torch.manual_seed(0)
    callback = GradientFlowCallback("encoder.lstm", every_n_steps=10, background=False, cache=False,
                                    inputs=lambda batch: batch[0], lags=(5,), **SMALL)
    logger = CSVLogger(str(tmp_path), name="run")
    _trainer(logger, callback).fit(_module())
    rows = list(csv.DictReader(open(Path(logger.log_dir) / "metrics.csv")))
    logged = {int(r["step"]): float(r["gradscope/growth_rate"]) for r in rows if r.get("gradscope/growth_rate")}
    docs = analyses(Path(logger.log_dir) / "gradscope")
    assert sorted(logged) == [d["step"] for d in docs] == [10, 20, 30, 40]
    for doc in docs:
        assert logged[doc["step"]] == pytest.approx(doc["scalars"]["gradscope/growth_rate"], rel=1e-12)
        assert doc["summary"]["config"]["input"].endswith("-inputs.npy")  # on the batch, batch first
    assert any(r.get("gradscope/log10_gain_lag5") for r in rows)


@pytest.mark.slow
def test_the_callback_in_the_background_logs_through_tensorboard(tmp_path: Path) -> None:
    from lightning.pytorch.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from gradscope.monitor import GradientFlowCallback

    callback = GradientFlowCallback("encoder.lstm", every_n_steps=10, cache=False, max_pending=10, **SMALL)
    logger = TensorBoardLogger(str(tmp_path), name="run")
    _trainer(logger, callback, steps=30).fit(_module())
    acc = EventAccumulator(logger.log_dir, size_guidance={"scalars": 0}).Reload()
    events = acc.Scalars("gradscope/growth_rate")
    docs = analyses(Path(logger.log_dir) / "gradscope")
    assert [e.step for e in events] == [d["step"] for d in docs] == [10, 20, 30]
    assert [e.value for e in events] == pytest.approx([d["scalars"]["gradscope/growth_rate"] for d in docs], rel=1e-6)


def test_a_wrong_attribute_path_is_one_line(tmp_path: Path) -> None:
    from lightning.pytorch.loggers import CSVLogger

    from gradscope.monitor import GradientFlowCallback

    callback = GradientFlowCallback("encoder.gru", every_n_steps=10, background=False, cache=False, **SMALL)
    with pytest.raises(ValueError, match="has no attribute 'encoder.gru'"):
        _trainer(CSVLogger(str(tmp_path), name="run"), callback, steps=2).fit(_module())

"""`Config` as data: it round-trips through JSON, its key (the run cache's) is stable,
and an unknown key is refused."""

import json

import pytest

from gradscope import Config


def test_config_round_trips_and_hashes_stably():
    c = Config(cell="gru", gain=2, bias_std=0.1)
    assert Config.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert c.key() == Config(cell="gru", gain=2.0, bias_std=0.1).key()
    assert c.key() != Config(cell="gru", gain=2.5, bias_std=0.1).key()
    with pytest.raises(ValueError, match="unknown configuration key"):
        Config.from_dict({"cel": "rnn"})

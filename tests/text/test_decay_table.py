"""The table and the sentence of one run (`text.decay_table`), for every kind of run:
vanishing, exploding, marginal, non-finite, exactly zero, censored."""

from __future__ import annotations

from conftest import make_synthetic_result

from gradscope.text.decay_table import plain_sentence, render_text, summary_table


def test_sentences():
    s = plain_sentence(make_synthetic_result("vanishing"))
    assert s.startswith("gradients shrink about 7x per step")
    assert "8 steps back less than 1e-6" in s and "1/4" in s and "holds" in s
    assert "grow" in plain_sentence(make_synthetic_result("exploding"))
    assert "edge of chaos" in plain_sentence(make_synthetic_result("marginal"))
    assert "inf/NaN at step" in plain_sentence(make_synthetic_result("nonfinite"))
    assert "no horizon applies" in plain_sentence(make_synthetic_result("nonfinite"))
    assert "beyond the window" in plain_sentence(make_synthetic_result("lstm"))
    assert plain_sentence(make_synthetic_result("zero")).endswith(".")


def test_summary_table_text(synthetic_result_kind):
    text = render_text(summary_table(synthetic_result_kind), width=100)
    assert "\x1b[" not in text
    assert "growth rate" in text and "ln/step" in text and "horizon" in text
    assert synthetic_result_kind.summary["status"] in text
    for w in synthetic_result_kind.summary["warnings"]:
        assert w.split()[0] in text
    if synthetic_result_kind.config.cell == "rnn":
        assert "Pascanu bound" in text
    horizon_row = next(line for line in text.splitlines() if line.startswith("horizon"))
    if synthetic_result_kind.summary["explosion_lag"] is not None:  # exploding: no horizon, never "censored"
        assert "n/a" in horizon_row and "no horizon" in horizon_row and "censored" not in text
    elif synthetic_result_kind.summary["horizon_censored"]:
        assert "> 300" in horizon_row

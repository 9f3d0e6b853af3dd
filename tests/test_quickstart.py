"""The README's main job, ``edgeplace quickstart``, end to end at a tiny budget: it trains, evaluates
against the baselines and prints a summary that fits an 80-column terminal."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from edgeplace.quickstart import run_quickstart


@pytest.mark.usefixtures("ray_session")
def test_quickstart_trains_evaluates_and_prints_a_table_that_fits_80_columns(tmp_path):
    console = Console(record=True, width=80)
    run_quickstart(tmp_path, timesteps=640, episodes=2, console=console)
    printed = console.export_text()
    assert all(len(line) <= 80 for line in printed.splitlines())
    assert all(policy in printed for policy in ("mappo", "greedy", "random"))
    assert (tmp_path / "train" / "checkpoints" / "LATEST").is_file()
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["metadata"]["training"].startswith("MAPPO, ")

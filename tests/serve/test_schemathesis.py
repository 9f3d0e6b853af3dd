"""Schemathesis against the app's own OpenAPI document over loopback, kept small for CI (the
>= 1,000-case run is ``bench/serve_load.py --fuzz``): no 500 and no response that violates the
schema, with every built-in check."""

from __future__ import annotations

import re
import subprocess
import sys

from edgeplace.serve.routes import Route
from tests.serve.bodies import PLACE, place_body

EXAMPLES_PER_OPERATION = 15
TIMEOUT_S = 240


def run_schemathesis(url: str, examples: int, tmp_path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json", "--checks", "all"]
    command += ["-n", str(examples), "--seed", "0", "-w", "1", "--report-dir", str(tmp_path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)


def test_fuzzing_finds_no_server_error_or_schema_violation(served, tmp_path):
    done = run_schemathesis(served.url, EXAMPLES_PER_OPERATION, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated is not None, done.stdout[-2000:]
    assert int(generated.group(1)) == int(generated.group(2)) >= 50
    assert served.client.get(Route.HEALTH).status_code == 200
    assert served.client.post(PLACE, json=place_body()).status_code == 200

"""The README's first command: the fraud example, end to end (smaller data)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import subprocess_env

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud" / "run.py"


def test_fraud_example_trains_scores_and_alerts(tmp_path):
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), "--registry", str(tmp_path / "registry"),
         "--history", "40000", "--live", "5000"],
        capture_output=True, text=True, timeout=600, env=subprocess_env())
    assert run.returncode == 0, run.stderr[-3000:]
    alerts = [line for line in run.stdout.splitlines() if line.startswith("ALERT")]
    # About 2% of 5,000 live transactions are fraud; the model flags most of them.
    assert 40 <= len(alerts) <= 200, run.stdout[-2000:]
    assert "published fraud_model version 1" in run.stderr
    assert "fraud_baseline" in run.stdout and "roc_auc" in run.stdout


def test_table_api_example_fits_the_pipeline_and_scores_batch_and_stream(tmp_path):
    script = EXAMPLE.with_name("table_api.py")
    run = subprocess.run(
        [sys.executable, str(script), "--registry", str(tmp_path / "registry"),
         "--history", "40000", "--live", "5000"],
        capture_output=True, text=True, timeout=600, env=subprocess_env())
    assert run.returncode == 0, run.stderr[-3000:]
    assert "published fraud_pipeline version 1" in run.stderr
    assert "ML_ONE_HOT_ENCODER(`merchant_category`, ARRAY['atm_withdrawal'" in run.stdout
    assert "fraud_caught" in run.stdout and "roc_auc" in run.stdout
    alerts = [line for line in run.stdout.splitlines() if line.startswith("ALERT")]
    assert 40 <= len(alerts) <= 300, run.stdout[-2000:]


def test_flink_client_example_scores_with_flinks_own_ml_predict(tmp_path):
    script = EXAMPLE.with_name("flink_client.py")
    run = subprocess.run(
        [sys.executable, str(script), "--registry", str(tmp_path / "registry"),
         "--history", "40000", "--live", "5000"],
        capture_output=True, text=True, timeout=600, env=subprocess_env())
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    assert "'provider' = 'mlsql'" in run.stderr
    assert "ML_PREDICT(TABLE" in run.stderr
    alerts = [line for line in run.stdout.splitlines() if line.startswith("ALERT")]
    assert 40 <= len(alerts) <= 200, run.stdout[-2000:]
    # Every alert on a line of its own (the SQL client's echo of the script names the sink's
    # 'ALERT' identifier too), and the count printed is the count of those lines.
    assert len(re.findall(r"ALERT(?::\d+)?> ", run.stdout)) == len(alerts)
    assert "\x1b[" not in run.stdout  # no raw colour codes where output is not a terminal
    assert re.search(rf"\b{len(alerts)} alerts\b", run.stderr), run.stderr[-500:]

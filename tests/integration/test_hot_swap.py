"""Running jobs and new model versions, against a real Kafka broker and real processes.

- hot swap: a scoring job on `swap` picks up versions published by other `mlsql` processes
  (CREATE OR REPLACE MODEL, ALTER MODEL ... default_version) without a restart, scoring
  every event once; a pinned `swap$1` in the same job never changes; a version with other
  inputs is refused while the job keeps scoring; a version the retraining service's gate
  refuses never scores, though it is the newest, and one it promotes takes over;
- (an online-training job resumed from its checkpoint, with no window lost or published twice,
  is in test_cluster_faults.py);
- concurrency: online learning and batch CREATE OR REPLACE MODEL in two processes publish
  versions of one model at once, while this process reads every version as it appears.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.errors import DamagedModelError
from tests.integration.kafka_helpers import (
    PacedProducer,
    TopicReader,
    kill_group,
    mlsql_background,
    run_mlsql,
    wait_for,
)
from tests.integration.stream_models import (
    WINDOW,
    event,
    first,
    history_csv,
    kafka_table,
    online_sql,
    publisher_sql,
    run_script,
    runs,
    second,
)
from udfs.predictors import load_predictor

pytestmark = [pytest.mark.slow, pytest.mark.kafka]


def test_a_running_job_scores_with_new_versions_without_a_restart(broker, tmp_path):
    bootstrap = broker[0]
    registry = tmp_path / "registry"
    session = mlsql.Session(registry=registry, options={"parallelism.default": "1"})
    first_csv = history_csv(tmp_path / "first.csv", first)
    second_csv = history_csv(tmp_path / "second.csv", second)
    run_script(registry, publisher_sql(first_csv, "SELECT x, y, z FROM history"))
    columns = "id BIGINT, x DOUBLE, y DOUBLE, predicted_z DOUBLE, model_version INT"
    session.sql(";\n".join([
        kafka_table("ticks", "id BIGINT, x DOUBLE, y DOUBLE", "ticks", bootstrap),
        kafka_table("scored", columns, "scored", bootstrap),
        kafka_table("scored_pinned", columns, "scored_pinned", bootstrap)]))
    rng = np.random.default_rng(2)
    points = rng.normal(size=(100_000, 2))
    producer = PacedProducer(bootstrap, "ticks", lambda i: {
        "id": i, "x": float(points[i, 0]), "y": float(points[i, 1])}, rate=200)
    job = session.sql("""
        BEGIN STATEMENT SET;
        INSERT INTO scored SELECT id, x, y, predicted_z, model_version FROM ML_PREDICT(
          TABLE ticks, MODEL swap,
          MAP['version_column', 'model_version', 'refresh_interval', '500 ms']);
        INSERT INTO scored_pinned SELECT id, x, y, predicted_z, model_version FROM ML_PREDICT(
          TABLE ticks, MODEL `swap$1`, MAP['version_column', 'model_version']);
        END""")
    scored = TopicReader(bootstrap, "scored")
    try:
        scored.read_until(lambda r: len(r) >= 100, 120, "rows scored by version 1")

        run_script(registry, publisher_sql(second_csv, "SELECT x, y, z FROM history"))
        published = time.monotonic()
        scored.read_until(lambda r: r[-1]["model_version"] == 2, 60, "version 2")
        switch_seconds = time.monotonic() - published

        session.sql("ALTER MODEL swap SET ('default_version' = '1')")  # no job: in-process
        scored.read_until(lambda r: r[-1]["model_version"] == 1, 60, "back to version 1")
        # A version with other inputs cannot replace the running one: refused, logged.
        run_script(registry, publisher_sql(second_csv, "SELECT x, z FROM history")
                      + "ALTER MODEL swap RESET ('default_version');")
        assert session.registry.resolve("swap").version == 3
        mark = len(scored.records)
        scored.read_until(lambda r: len(r) > mark + 400, 60, "rows after version 3")
        # A damaged version (a file edited after publication, so not as its files.json
        # says) is refused too, and the job keeps scoring with version 1.
        partial = registry / "swap" / ".v4-partial"
        shutil.copytree(registry / "swap" / "v1", partial)
        predictor = partial / "predictor.json"
        predictor.write_text(predictor.read_text().replace('"coef"', '"coef" ', 1))
        os.rename(partial, registry / "swap" / "v4")
        with pytest.raises(DamagedModelError, match=r"version 4 is damaged: .*predictor.json"):
            session.registry.resolve("swap")
        mark = len(scored.records)
        scored.read_until(lambda r: len(r) > mark + 400, 60, "rows after version 4")
        assert job.status() == "RUNNING"
        sent = producer.stop()
        rows = scored.read_until(lambda r: len(r) >= sent, 60, "every event")
    finally:
        producer.stop()
        job.cancel()
        scored.close()
    pinned = TopicReader(bootstrap, "scored_pinned")
    try:
        pinned_rows = pinned.read_until(lambda r: len(r) >= sent, 60, "every pinned event")
    finally:
        pinned.close()

    print(f"version 2 scored its first row {switch_seconds:.2f} s after its publication")
    for output in (rows, pinned_rows):
        ids = [r["id"] for r in output]
        assert sorted(ids) == list(range(sent))  # none dropped, none scored twice
    by_id = sorted(rows, key=lambda r: r["id"])
    assert runs([r["model_version"] for r in by_id]) == [1, 2, 1]
    for r in by_id:
        formula = second if r["model_version"] == 2 else first
        assert r["predicted_z"] == pytest.approx(formula(r["x"], r["y"]), abs=1e-6)
    assert {r["model_version"] for r in pinned_rows} == {1}
    assert all(r["predicted_z"] == pytest.approx(first(r["x"], r["y"]), abs=1e-6)
               for r in pinned_rows)


def _retrain(registry: Path, tmp_path: Path, training_formula, name: str) -> list[str]:
    """One pass of `mlsql retrain` over swap: train on rows of `training_formula`, gate on
    rows of `second`; the events' kinds."""
    training = history_csv(tmp_path / f"{name}.csv", training_formula)
    holdout = history_csv(tmp_path / "holdout.csv", second)
    script = tmp_path / f"{name}.sql"
    tables = "".join(
        f"CREATE TABLE {table} (x DOUBLE, y DOUBLE, z DOUBLE) WITH ('connector' = "
        f"'filesystem', 'path' = '{path}', 'format' = 'csv');\n"
        for table, path in (("fresh", training), ("holdout", holdout)))
    script.write_text(tables + "ALTER MODEL swap SET ('retrain.when' = 'EVERY ''1 s''', "
                      "'retrain.training_data' = 'fresh', 'retrain.gate_data' = 'holdout', "
                      "'retrain.min_interval' = '1 s');\n")
    log = registry / "swap" / "retraining.jsonl"
    before = len(log.read_text().splitlines()) if log.exists() else 0
    service = run_mlsql("retrain", str(script), "--registry", str(registry), "--passes", "1")
    assert service.returncode == 0, service.stderr[-3000:]
    return [json.loads(line)["event"] for line in log.read_text().splitlines()[before:]]


def test_the_retraining_service_reaches_a_running_job_only_through_its_gate(broker, tmp_path):
    """A refused version never scores, though it is the newest (the service pins the serving
    version before it trains); a promoted one takes over the running job."""
    bootstrap = broker[0]
    registry = tmp_path / "registry"
    session = mlsql.Session(registry=registry, options={"parallelism.default": "1"})
    run_script(registry, publisher_sql(history_csv(tmp_path / "first.csv", first),
                                           "SELECT x, y, z FROM history"))
    session.sql(";\n".join([
        kafka_table("gated_ticks", "id BIGINT, x DOUBLE, y DOUBLE", "gated_ticks", bootstrap),
        kafka_table("gated_scored", "id BIGINT, x DOUBLE, y DOUBLE, predicted_z DOUBLE, "
                               "model_version INT", "gated_scored", bootstrap)]))
    rng = np.random.default_rng(4)
    points = rng.normal(size=(100_000, 2))
    producer = PacedProducer(bootstrap, "gated_ticks", lambda i: {
        "id": i, "x": float(points[i, 0]), "y": float(points[i, 1])}, rate=200)
    job = session.sql(
        "INSERT INTO gated_scored SELECT id, x, y, predicted_z, model_version FROM ML_PREDICT("
        "TABLE gated_ticks, MODEL swap, MAP['version_column', 'model_version', "
        "'refresh_interval', '500 ms'])")
    scored = TopicReader(bootstrap, "gated_scored")
    try:
        scored.read_until(lambda r: len(r) >= 100, 120, "rows scored by version 1")
        refused = _retrain(registry, tmp_path, lambda x, y: 3 * first(x, y), "wrong")
        assert refused == ["triggered", "trained", "refused"]
        mark = len(scored.records)
        scored.read_until(lambda r: len(r) > mark + 600, 60, "rows after the refusal")
        assert _retrain(registry, tmp_path, second, "right") == \
            ["triggered", "trained", "promoted"]
        scored.read_until(lambda r: r[-1]["model_version"] == 3, 60, "version 3")
        sent = producer.stop()
        rows = scored.read_until(lambda r: len(r) >= sent, 60, "every event")
    finally:
        producer.stop()
        job.cancel()
        scored.close()
    by_id = sorted(rows, key=lambda r: r["id"])
    assert [r["id"] for r in by_id] == list(range(sent))  # none dropped, none twice
    assert runs([r["model_version"] for r in by_id]) == [1, 3]  # never 2, the refused one
    for r in by_id:
        formula = second if r["model_version"] == 3 else first
        assert r["predicted_z"] == pytest.approx(formula(r["x"], r["y"]), abs=1e-6)




def test_two_processes_publish_versions_of_one_model_at_once(broker, tmp_path):
    bootstrap = broker[0]
    registry = tmp_path / "registry"
    history = tmp_path / "history.csv"
    frame = pd.DataFrame([event(i) for i in range(2000)])
    frame[["a", "b", "y"]].to_csv(history, index=False, header=False)
    producer = PacedProducer(bootstrap, "events_shared", event, rate=5000,
                             limit=WINDOW * 41)
    assert producer.join() == WINDOW * 41  # the 41st window's events close the 40th
    online_script = tmp_path / "online.sql"
    online_script.write_text(online_sql(bootstrap, tmp_path / "checkpoints", "shared"))
    batch_script = tmp_path / "batch.sql"
    batch_script.write_text(
        "SET 'execution.runtime-mode' = 'batch';\n"
        f"CREATE TABLE history (a DOUBLE, b DOUBLE, y INT) WITH ('connector' = 'filesystem', "
        f"'path' = '{history}', 'format' = 'csv');\n"
        + "CREATE OR REPLACE MODEL shared WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
          "AS SELECT a, b, y FROM history;\n" * 6)
    logs = tmp_path / "online.log", tmp_path / "batch.log"
    online = mlsql_background("run", "--registry", str(registry), str(online_script),
                              log=logs[0])
    batch = mlsql_background("run", "--registry", str(registry), str(batch_script),
                             log=logs[1])
    seen: set[int] = set()
    try:
        def read_new_versions() -> bool:
            model = registry / "shared"
            for path in model.glob("v*") if model.exists() else ():
                number = int(path.name[1:])
                if number not in seen:  # a complete version, or none: never half of one
                    meta = json.loads((path / "metadata.json").read_text())
                    assert meta["version"] == number
                    predictor = load_predictor(str(path))
                    out = predictor.predict([np.array([0.5]), np.array([-0.5])])
                    assert 0 <= out.probability.iloc[0] <= 1
                    seen.add(number)
            return len(seen) >= 46 and batch.poll() is not None

        wait_for(read_new_versions, 300, "40 online and 6 batch versions", online, logs[0])
    finally:
        kill_group(online)
        kill_group(batch)
    assert batch.returncode == 0, logs[1].read_text()[-3000:]
    assert sorted(seen) == list(range(1, 47))
    kinds = [json.loads((registry / "shared" / f"v{v}" / "metadata.json").read_text())
             .get("training_mode") for v in sorted(seen)]
    assert kinds.count("online") == 40 and len(kinds) - kinds.count("online") == 6

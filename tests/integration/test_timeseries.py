"""ML_FORECAST, ML_DETECT_ANOMALIES and ML_DETECT_ANOMALIES_ROBUST on real Flink jobs:
forecasts against statsmodels' ARIMA on its bundled datasets, injected anomalies found, a
stream equal to batch, and NULLs for a key until it has minTrainingSize rows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import mlsql
from mlsql.errors import MlsqlError, OptionError, SchemaError

pytestmark = pytest.mark.slow
OVER = "OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
START = pd.Timestamp("2026-01-01")


def _table(session, name: str, path) -> None:
    session.sql(f"CREATE TEMPORARY TABLE {name} (k STRING, ts TIMESTAMP(3), v DOUBLE, "
                "w DOUBLE, WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', "
                f"'path' = '{path}', 'format' = 'csv')")


def _write(path, frame: pd.DataFrame) -> None:
    """In event-time order, as a stream brings them (a row behind the watermark is late)."""
    frame = frame.sort_values("ts", kind="stable")[["k", "ts", "v", "w"]].copy()
    frame["ts"] = frame["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_csv(path, header=False, index=False)


# --- forecasts against statsmodels ----------------------------------------------------------

def _dataset(name: str) -> np.ndarray:
    import statsmodels.api as sm

    if name == "co2":  # weekly, with gaps: monthly means, as statsmodels' own examples do
        return sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().to_numpy()
    return sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()


def _statsmodels_forecast(y, order, seasonal, period, horizon, level):
    from statsmodels.tsa.arima.model import ARIMA

    trend = "c" if order[1] + seasonal[1] == 0 else "n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ARIMA(y, order=order, seasonal_order=(*seasonal, period) if period > 1
                       else (0, 0, 0, 0), trend=trend).fit()
    forecast = fitted.get_forecast(horizon)
    bounds = forecast.conf_int(alpha=1 - level / 100)
    return forecast.predicted_mean, bounds[:, 0], bounds[:, 1]


CASES = [  # dataset, rows, (p, d, q), (P, D, Q), m
    ("co2", 240, (1, 1, 1), (0, 0, 0), 1),
    ("co2", 240, (1, 1, 1), (0, 1, 1), 12),
    ("sunspots", 300, (2, 0, 1), (0, 0, 0), 1),
]


@pytest.fixture(scope="module")
def statsmodels_cases(batch_session, tmp_path_factory):
    directory = tmp_path_factory.mktemp("forecasts")
    frames = []
    for i, (dataset, rows, *_rest) in enumerate(CASES):
        y = _dataset(dataset)[-rows:]
        frames.append(pd.DataFrame({"k": f"case{i}", "ts": pd.date_range(START, periods=rows,
                                    freq="D"), "v": y, "w": 0.0}))
    _write(directory / "cases.csv", pd.concat(frames))
    _table(batch_session, "ts_cases", directory / "cases.csv")
    selects = []
    for i, (_, rows, order, seasonal, period) in enumerate(CASES):
        options = (f"'p' VALUE {order[0]}, 'd' VALUE {order[1]}, 'q' VALUE {order[2]}, "
                   f"'minTrainingSize' VALUE {rows}, 'maxTrainingSize' VALUE {rows}, "
                   "'horizon' VALUE 12, 'confidencePercentage' VALUE 95.0")
        if period > 1:
            options += (f", 'P' VALUE {seasonal[0]}, 'D' VALUE {seasonal[1]}, "
                        f"'Q' VALUE {seasonal[2]}, 'm' VALUE {period}")
        selects.append(f"SELECT k, ts, ML_FORECAST(v, ts, JSON_OBJECT({options})) {OVER} AS f "
                       f"FROM ts_cases WHERE k = 'case{i}'")
    frame = batch_session.sql(" UNION ALL ".join(selects))  # one job for every case
    return {i: frame[frame["k"] == f"case{i}"].sort_values("ts") for i in range(len(CASES))}


@pytest.mark.parametrize("case", range(len(CASES)))
def test_forecasts_agree_with_statsmodels_fitted_with_the_same_orders(statsmodels_cases, case):
    dataset, rows, order, seasonal, period = CASES[case]
    frame = statsmodels_cases[case]
    # One fit, at the last row (minTrainingSize = maxTrainingSize = rows): NULL before it.
    assert frame["f"].iloc[:-1].isna().all()
    steps = frame["f"].iloc[-1]
    assert len(steps) == 12
    mean, lower, upper = _statsmodels_forecast(_dataset(dataset)[-rows:], order, seasonal,
                                               period, 12, 95.0)
    ours = np.array([step["forecast_value"] for step in steps])
    relative = np.max(np.abs(ours - mean) / np.abs(mean))
    width = np.array([step["upper_bound"] - step["lower_bound"] for step in steps])
    width_relative = np.max(np.abs(width - (upper - lower)) / (upper - lower))
    print(f"{dataset} ARIMA{order}{seasonal}[{period}]: largest relative difference of the "
          f"12 forecasts {relative:.1e}, of the 95% intervals' widths {width_relative:.1e}")
    assert relative < 2e-3
    assert width_relative < 0.1
    assert [step["timestamp"] for step in steps][:2] == [
        (START + pd.Timedelta(days=rows + i)).to_pydatetime() for i in range(2)]


# --- anomalies, stream against batch, NULLs --------------------------------------------------

MIN, MAX, EVERY = 32, 64, 8
OPTIONS = (f"'minTrainingSize' VALUE {MIN}, 'maxTrainingSize' VALUE {MAX}, "
           f"'updateInterval' VALUE {EVERY}")
QUERY = (f"SELECT k, ts, v, "
         f"ML_DETECT_ANOMALIES(v, ts, JSON_OBJECT('p' VALUE 1, 'd' VALUE 0, 'q' VALUE 0, "
         f"{OPTIONS})) {OVER} AS a, "
         f"ML_FORECAST(v, ts, JSON_OBJECT('p' VALUE 1, 'd' VALUE 0, 'q' VALUE 1, "
         f"'horizon' VALUE 2, {OPTIONS})) {OVER} AS f, "
         f"ML_DETECT_ANOMALIES_ROBUST(ROW(v, w), ts, JSON_OBJECT('window' VALUE 24, "
         f"'threshold' VALUE 4.0)) {OVER} AS r FROM ts_keys")
KEYS, ROWS, SHORT_KEY_ROWS = 12, 160, 20
TRAINED_ROWS = 100  # arima_plus is trained on each key's first rows, judges the rest
CUTOFF = START + pd.Timedelta(minutes=TRAINED_ROWS)


def _keys() -> tuple[pd.DataFrame, set[tuple[str, int]]]:
    """AR(1) series per key, with spikes and level shifts injected past the first fit; the
    last key stays below minTrainingSize."""
    rng = np.random.default_rng(27)
    frames, injected = [], set()
    for key in range(KEYS + 1):
        rows = ROWS if key < KEYS else SHORT_KEY_ROWS
        level, noise = 0.0, np.empty(rows)
        for i in range(rows):
            level = 0.6 * level + rng.normal()
            noise[i] = level
        values = 100 + 10 * key + noise
        spikes = rng.choice(np.arange(MIN + 8, ROWS, 9), size=3, replace=False)
        for i in spikes if key < KEYS else ():
            values[i] += rng.choice([-1, 1]) * 10  # about 8 standard deviations
            injected.add((f"key{key}", int(i)))
        name = f"key{key}"
        frames.append(pd.DataFrame({
            "k": name, "ts": START + pd.to_timedelta(np.arange(rows) * 60 + key, unit="s"),
            "v": values, "w": 50 + rng.normal(size=rows)}))
    return pd.concat(frames, ignore_index=True), injected


@pytest.fixture(scope="module")
def keyed(batch_session, tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    frame, injected = _keys()
    _write(directory / "keys.csv", frame)
    _table(batch_session, "ts_keys", directory / "keys.csv")
    result = batch_session.sql(QUERY).sort_values(["k", "ts"], ignore_index=True)
    result["n"] = result.groupby("k").cumcount() + 1
    return result, injected, directory


def test_a_key_has_results_from_min_training_size_and_nulls_before(keyed):
    result, _, _ = keyed
    forecasts = result["f"].notna()
    assert (forecasts == (result["n"] >= MIN)).all()
    flagged = result["a"].map(lambda a: a["forecast_value"] is not None)
    assert (flagged == (result["n"] > MIN)).all()
    short = result[result["k"] == f"key{KEYS}"]
    assert len(short) == SHORT_KEY_ROWS and short["f"].isna().all()
    assert short["a"].map(lambda a: a["is_anomaly"] is None).all()


def test_injected_spikes_are_flagged_with_few_false_alarms(keyed):
    result, injected, _ = keyed
    scored = result[result["n"] > MIN].copy()
    scored["injected"] = [(k, n - 1) in injected for k, n in zip(scored["k"], scored["n"],
                                                                  strict=True)]
    # The row after a spike is forecast from the spike itself: left out of the false alarms.
    after = {(k, i + 1) for k, i in injected}
    scored["after"] = [(k, n - 1) in after for k, n in zip(scored["k"], scored["n"], strict=True)]
    for column in ("a", "r"):
        flags = scored[column].map(lambda a: bool(a["is_anomaly"]))
        recall = flags[scored["injected"]].mean()
        normal = ~scored["injected"] & ~scored["after"]
        false_positive_rate = flags[normal].mean()
        print(f"{column}: recall {recall:.2f} of {scored['injected'].sum()} injected, "
              f"false-positive rate {false_positive_rate:.3f} of {normal.sum()} rows")
        assert recall >= 0.9
        assert false_positive_rate <= 0.03


@pytest.fixture(scope="module")
def stream(keyed, batch_session):
    """A streaming session at parallelism 2 over the same rows (ts_keys, ts_new)."""
    _, _, directory = keyed
    session = mlsql.Session(registry=batch_session.registry.root)
    session.sql("SET 'parallelism.default' = '2'")
    _table(session, "ts_keys", directory / "keys.csv")
    session.sql(f"CREATE TEMPORARY VIEW ts_new AS SELECT * FROM ts_keys "
                f"WHERE ts >= TIMESTAMP '{CUTOFF}'")
    return session


def test_a_stream_gives_the_batch_results(keyed, stream):
    result, _, _ = keyed
    streamed = stream.sql(QUERY).sort_values(["k", "ts"], ignore_index=True)
    assert len(streamed) == len(result)
    for column in ("a", "f", "r"):
        for ours, batch in zip(streamed[column], result[column], strict=True):
            assert _plain(ours) == _plain(batch), column


def _plain(value):
    """A result as comparable plain values (NaN equal to NaN)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_dict"):
        return {k: _plain(v) for k, v in value.as_dict().items()}
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value



def test_a_bad_option_is_reported_before_any_job(keyed, batch_session):
    with pytest.raises(OptionError, match=r"unknown option 'minTraningSize' \(did you mean "
                       r"'minTrainingSize'\?\)") as error:
        batch_session.sql(QUERY.replace("'minTrainingSize'", "'minTraningSize'", 1))
    assert error.value.position.line == 1


# --- BigQuery's model form: CREATE MODEL ... arima_plus, ML_FORECAST(MODEL), ----------------
# --- ML_DETECT_ANOMALIES(TABLE, MODEL) ------------------------------------------------------

CREATE = ("CREATE OR REPLACE MODEL ts_model WITH ('model_type' = 'arima_plus', "
          "'time_series_timestamp_col' = 'ts', 'time_series_data_col' = 'v', "
          "'time_series_id_col' = 'k', 'horizon' = '30'{extra}) "
          f"AS SELECT k, ts, v FROM ts_keys WHERE ts < TIMESTAMP '{CUTOFF}'")
DETECT = ("SELECT * FROM ML_DETECT_ANOMALIES(TABLE ts_new, MODEL {model}, "
          "MAP['anomaly_prob_threshold', '0.99'])")


@pytest.fixture(scope="module")
def arima_plus(keyed, batch_session):
    session = batch_session
    session.sql(f"CREATE TEMPORARY VIEW ts_new AS SELECT * FROM ts_keys "
                f"WHERE ts >= TIMESTAMP '{CUTOFF}'")
    summary = session.sql(CREATE.format(extra=""))
    fixed = session.sql(CREATE.replace("ts_model", "ts_fixed").format(
        extra=", 'auto_arima' = 'FALSE', 'non_seasonal_order' = '(1, 0, 0)'"))
    return summary, fixed


def test_arima_plus_trains_one_model_per_series(arima_plus, batch_session):
    summary, _ = arima_plus
    # The short key's 20 rows are BigQuery's min_time_series_length: modelled too.
    assert int(summary["series"].iloc[0]) == KEYS + 1
    assert int(summary["train_rows"].iloc[0]) == KEYS * TRAINED_ROWS + SHORT_KEY_ROWS
    info = batch_session.sql("SELECT * FROM ML_TRAINING_INFO(MODEL ts_model)")
    assert list(info["version"]) == [1]
    described = batch_session.sql("SHOW MODELS LIKE 'ts_model'")
    assert described["model_type"].iloc[0] == "arima_plus"


def test_ml_forecast_of_the_model_agrees_with_statsmodels(arima_plus, keyed, batch_session):
    frame = batch_session.sql("SELECT * FROM ML_FORECAST(MODEL ts_fixed, "
                              "MAP['horizon', '5', 'confidence_level', '0.9'])")
    assert len(frame) == (KEYS + 1) * 5
    assert list(frame.columns) == ["k", "forecast_timestamp", "forecast_value",
                                   "standard_error", "confidence_level",
                                   "prediction_interval_lower_bound",
                                   "prediction_interval_upper_bound"]
    result, _, _ = keyed
    key0 = frame[frame["k"] == "key0"].sort_values("forecast_timestamp")
    history = result[(result["k"] == "key0") & (result["n"] <= TRAINED_ROWS)]["v"].to_numpy()
    mean, lower, upper = _statsmodels_forecast(history, (1, 0, 0), (0, 0, 0), 1, 5, 90.0)
    relative = np.max(np.abs(key0["forecast_value"].to_numpy() - mean) / np.abs(mean))
    print(f"arima_plus (1, 0, 0) against statsmodels: largest relative difference {relative:.1e}")
    assert relative < 2e-3
    width = (key0["prediction_interval_upper_bound"]
             - key0["prediction_interval_lower_bound"]).to_numpy()
    assert np.max(np.abs(width - (upper - lower)) / (upper - lower)) < 0.1
    assert key0["forecast_timestamp"].iloc[0] == (START + pd.Timedelta(minutes=TRAINED_ROWS))


@pytest.fixture(scope="module")
def detected(arima_plus, batch_session):
    return batch_session.sql(DETECT.format(model="ts_model")).sort_values(["k", "ts"],
                                                                          ignore_index=True)


def test_ml_detect_anomalies_flags_the_new_rows_spikes_in_batch_and_on_a_stream(
        detected, keyed, stream):
    _, injected, _ = keyed
    detected = detected.copy()
    assert len(detected) == KEYS * (ROWS - TRAINED_ROWS)
    detected["i"] = detected.groupby("k").cumcount() + TRAINED_ROWS
    spikes = [(k, i) in injected for k, i in zip(detected["k"], detected["i"], strict=True)]
    after = [(k, i - 1) in injected for k, i in zip(detected["k"], detected["i"], strict=True)]
    spikes, after = np.array(spikes), np.array(after)
    recall = detected["is_anomaly"][spikes].mean()
    false_positive_rate = detected["is_anomaly"][~spikes & ~after].mean()
    print(f"arima_plus ML_DETECT_ANOMALIES: recall {recall:.2f} of {spikes.sum()}, "
          f"false-positive rate {false_positive_rate:.3f}")
    assert recall >= 0.9 and false_positive_rate <= 0.03

    streamed = stream.sql(DETECT.format(model="ts_model")).sort_values(["k", "ts"],
                                                                       ignore_index=True)
    pd.testing.assert_frame_equal(streamed, detected.drop(columns="i"), check_exact=True)


def test_model_form_mistakes_are_named(arima_plus, batch_session):
    with pytest.raises(SchemaError, match=r"time_series_data_col 'value' is not a column "
                                          r"of the query; its columns: k, ts, v"):
        batch_session.sql(CREATE.replace("'v'", "'value'").format(extra=""))
    with pytest.raises(OptionError, match="non_seasonal_order needs 'auto_arima' = 'FALSE'"):
        batch_session.sql(CREATE.format(extra=", 'non_seasonal_order' = '(1, 0, 0)'"))
    with pytest.raises(OptionError, match=r"unknown ML_FORECAST option 'horizn' \(did you "
                                          r"mean 'horizon'\?\)"):
        batch_session.sql("SELECT * FROM ML_FORECAST(MODEL ts_model, MAP['horizn', '3'])")
    with pytest.raises(OptionError, match=r"horizon must be from 1 to the model's horizon "
                                          r"option \(30\)"):
        batch_session.sql("SELECT * FROM ML_FORECAST(MODEL ts_model, MAP['horizon', '31'])")


def test_the_table_api_functions_give_the_sql_rows(detected, batch_session):
    forecast = mlsql.ml_forecast(batch_session, "ts_model", {"horizon": "2"}).to_pandas()
    expected = batch_session.sql("SELECT * FROM ML_FORECAST(MODEL ts_model, "
                                 "MAP['horizon', '2'])")
    pd.testing.assert_frame_equal(forecast.sort_values(["k", "forecast_timestamp"],
                                                       ignore_index=True),
                                  expected.sort_values(["k", "forecast_timestamp"],
                                                       ignore_index=True))
    new_rows = batch_session.runtime.t_env.from_path("ts_new")
    sql_detected = detected
    detected = mlsql.ml_detect_anomalies(new_rows, "ts_model",
                                         {"anomaly_prob_threshold": "0.99"}).to_pandas()
    assert len(detected) == KEYS * (ROWS - TRAINED_ROWS)
    assert detected["is_anomaly"].sum() == sql_detected["is_anomaly"].sum()


def test_scoring_functions_point_a_time_series_model_to_its_own(arima_plus, batch_session):
    for function in ("ML_PREDICT", "ML_EVALUATE"):
        with pytest.raises(MlsqlError, match=rf"{function} at line 1, column \d+: model "
                                             r"'ts_model' is an arima_plus time-series model"):
            batch_session.sql(f"SELECT * FROM {function}(TABLE ts_new, MODEL ts_model)")

"""Online training on a drifting stream: how fast online_logistic_reg recovers.

    python tests/benchmarks/online_drift.py [--rows 36000] [--window-rows 2000] [--seed 7]
                                            [--out docs/online_drift.png]

A synthetic, deterministic fraud-like stream (is_fraud about 31% positive) of three
features: `amount_log_ratio` (log of the amount over the card's usual amount), `tx_last_hour`
(the card's transactions in the last hour) and `channel` (pos, web, app). Each label is
drawn from a logistic model of the features whose weights change at the stream's halfway
window: before, fraud is large amounts online (web); after, many small, fast transactions in
the app. The feature distributions themselves do not move: only the pattern does.

The rows, one every 600 s / --window-rows of event time, go to a CSV file read by a
filesystem table with a WATERMARK, so each 10-minute TUMBLE window holds exactly
--window-rows rows. Three models, scored on every window of the stream:

- online: CREATE MODEL ... 'online_logistic_reg' with its default options (FTRL, alpha 0.5,
  beta 1, batches of 32) and 'update_every' = '10 minutes', a real Flink job at parallelism
  1. Its accuracy on a window is the prequential one of the version that window published
  (metadata.json): the model as it stood before it trained on that window.
- trained once: logistic_reg trained before the stream on a pre-drift history as long as the
  stream's pre-drift half (drawn independently of the stream), never updated.
- post-drift batch (the reference): logistic_reg trained on an independent post-drift sample
  as long as the stream's post-drift half, i.e. a model that knows the new pattern; as it
  never saw the stream's rows, its accuracy on every window is out of sample.

Both batch models go through CREATE MODEL too (mlsql's default 20% hold-out) and are scored
in Python with udfs.predictors.load_predictor, window by window. The online model has no
accuracy on the first window (nothing trained yet).

Requirement: within 5 windows after the drift, the online model is within 0.02 of the
post-drift batch model's accuracy. "Recovered" counts post-drift windows (the first is 1)
up to the first one from which the online accuracy stays within 0.02 to the end of the
stream; the first window within 0.02 at all is printed too. The curves are drawn to --out.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from common import summary

import mlsql
from udfs.predictors import load_predictor

WINDOW = timedelta(minutes=10)
START = datetime(2026, 1, 1)
CHANNELS = np.array(["pos", "web", "app"])
CHANNEL_SHARES = [0.5, 0.3, 0.2]
FEATURES = ["amount_log_ratio", "tx_last_hour", "channel"]
TOLERANCE = 0.02
REQUIRED_WINDOWS = 5
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "online_drift.png"


def transactions(rng: np.random.Generator, rows: int, drifted: bool) -> pd.DataFrame:
    """`rows` transactions of one regime: before (large online amounts are fraud) or after
    the drift (many small, fast transactions in the app are)."""
    amount = rng.normal(0.0, 1.0, rows)
    velocity = rng.poisson(3.0, rows)
    channel = rng.choice(3, rows, p=CHANNEL_SHARES)
    if drifted:
        logit = -1.6 - 1.8 * amount + 0.9 * (velocity - 3) + 1.0 * (channel == 2)
    else:
        logit = -1.6 + 2.2 * amount + 0.15 * (velocity - 3) + 1.0 * (channel == 1)
    fraud = rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))
    return pd.DataFrame({"amount_log_ratio": amount.round(6),
                         "tx_last_hour": velocity.astype(np.float64),
                         "channel": CHANNELS[channel], "is_fraud": fraud.astype(int)})


def event_times(rows: int, window_rows: int) -> pd.Series:
    """Whole milliseconds, `window_rows` of them in each 10-minute window from START."""
    index = np.arange(rows)
    millis = (index // window_rows) * int(WINDOW.total_seconds() * 1000) + (
        index % window_rows) * int(WINDOW.total_seconds() * 1000) // window_rows
    return pd.Series(pd.Timestamp(START) + pd.to_timedelta(millis, unit="ms"))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    if "ts" in out:
        out["ts"] = out["ts"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
    out.to_csv(path, header=False, index=False)


def table(session: mlsql.Session, name: str, path: Path, watermark: bool) -> None:
    time_columns = ", ts TIMESTAMP(3), WATERMARK FOR ts AS ts" if watermark else ""
    session.sql(f"CREATE TABLE {name} (amount_log_ratio DOUBLE, tx_last_hour DOUBLE, "
                f"channel STRING, is_fraud INT{time_columns}) WITH ('connector' = "
                f"'filesystem', 'path' = '{path}', 'format' = 'csv')")


def window_accuracy(version: Path, stream: pd.DataFrame) -> np.ndarray:
    """The accuracy of a published version on each window of the stream."""
    predictor = load_predictor(str(version))
    predicted = predictor.predict([stream[c] for c in FEATURES]).iloc[:, 0].to_numpy()
    correct = pd.Series(predicted.astype(int) == stream["is_fraud"].to_numpy())
    return correct.groupby(stream["window"].to_numpy()).mean().to_numpy()


def online_accuracy(model_dir: Path, windows: int) -> np.ndarray:
    """Per window, the prequential accuracy its online version recorded (NaN: none)."""
    accuracy = np.full(windows, np.nan)
    for meta_file in model_dir.glob("v*/metadata.json"):
        meta = json.loads(meta_file.read_text())
        start = datetime.fromisoformat(str(meta["online"]["window_start"]).replace(" ", "T"))
        window = int((start - START) / WINDOW)
        if "accuracy" in meta["metrics"]:
            accuracy[window] = meta["metrics"]["accuracy"]
    return accuracy


def recovery(online: np.ndarray, reference: np.ndarray, drift: int) -> tuple[int | None,
                                                                              int | None]:
    """Post-drift windows (1 = the first after the drift) until the online model is within
    TOLERANCE of the reference: first at all, and first from which it stays so."""
    within = online[drift:] >= reference[drift:] - TOLERANCE
    first = int(np.argmax(within)) + 1 if within.any() else None
    stays = None
    for k in range(len(within) - 1, -1, -1):
        if not within[k]:
            break
        stays = k + 1
    return first, stays


def plot(path: Path, online: np.ndarray, once: np.ndarray, post: np.ndarray,
         drift: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    windows = np.arange(1, len(online) + 1)
    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.plot(windows, post, color="0.45", linestyle="--", linewidth=1.2,
            label="batch, trained on post-drift data")
    ax.plot(windows, once, color="tab:red", marker="s", markersize=3, linewidth=1.2,
            label="batch, trained once before the drift")
    ax.plot(windows, online, color="tab:blue", marker="o", markersize=3, linewidth=1.6,
            label="online_logistic_reg (prequential)")
    ax.axvline(drift + 0.5, color="black", linewidth=0.8, linestyle=":",
               label="the fraud pattern changes")
    ax.set_xlabel("window (10 min of event time)", fontsize=8)
    ax.set_ylabel("accuracy", fontsize=8)
    ax.set_xlim(0.5, len(online) + 0.5)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, linewidth=0.5)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(0.0, 0.55), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=36_000,
                        help="rows in the stream (rounded down to whole windows)")
    parser.add_argument("--window-rows", type=int, default=2_000,
                        help="rows per 10-minute window")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the plot (PNG)")
    args = parser.parse_args()
    windows = args.rows // args.window_rows
    if windows < 4:
        parser.error("--rows must hold at least 4 windows of --window-rows")
    drift = windows // 2  # windows before the drift
    before, after = drift * args.window_rows, (windows - drift) * args.window_rows

    rng = np.random.default_rng(args.seed)
    stream = pd.concat([transactions(rng, before, False), transactions(rng, after, True)],
                       ignore_index=True)
    stream["ts"] = event_times(len(stream), args.window_rows)
    stream["window"] = np.arange(len(stream)) // args.window_rows
    history = transactions(rng, before, False)  # what the trained-once model saw
    post_sample = transactions(rng, after, True)  # what the reference saw
    print(f"{windows} windows of {args.window_rows:,} rows, drift after window {drift}; "
          f"fraud rate {stream.is_fraud[:before].mean():.3f} before, "
          f"{stream.is_fraud[before:].mean():.3f} after")

    with tempfile.TemporaryDirectory(prefix="mlsql-online-drift-") as tmp:
        root = Path(tmp)
        for name, frame in (("stream", stream.drop(columns="window")), ("history", history),
                            ("post_sample", post_sample)):
            write_csv(frame, root / f"{name}.csv")
        session = mlsql.Session(root / "registry", mode="streaming", progress=lambda _: None)
        session.sql("SET 'parallelism.default' = '1'")
        table(session, "tx", root / "stream.csv", watermark=True)
        table(session, "tx_history", root / "history.csv", watermark=False)
        table(session, "tx_post", root / "post_sample.csv", watermark=False)

        select = "SELECT amount_log_ratio, tx_last_hour, channel, is_fraud FROM"
        started = time.perf_counter()
        session.sql("CREATE MODEL trained_once WITH ('model_type' = 'logistic_reg', "
                    f"'label' = 'is_fraud') AS {select} tx_history")
        session.sql("CREATE MODEL post_drift WITH ('model_type' = 'logistic_reg', "
                    f"'label' = 'is_fraud') AS {select} tx_post")
        batch_seconds = time.perf_counter() - started

        started = time.perf_counter()
        job = session.sql("CREATE MODEL online WITH ('model_type' = 'online_logistic_reg', "
                          "'label' = 'is_fraud', 'update_every' = '10 minutes') AS SELECT "
                          "amount_log_ratio, tx_last_hour, channel, ts, is_fraud FROM tx")
        job.wait()
        online_seconds = time.perf_counter() - started
        # The same job with Flink ML's OnlineLogisticRegression defaults, for comparison.
        session.sql("CREATE MODEL flink_ml_defaults WITH ('model_type' = "
                    "'online_logistic_reg', 'label' = 'is_fraud', 'update_every' = "
                    "'10 minutes', 'alpha' = '0.1', 'beta' = '0.1') AS SELECT "
                    "amount_log_ratio, tx_last_hour, channel, ts, is_fraud FROM tx").wait()

        registry = root / "registry"
        online = online_accuracy(registry / "online", windows)
        flink_ml = online_accuracy(registry / "flink_ml_defaults", windows)
        once = window_accuracy(registry / "trained_once" / "v1", stream)
        post = window_accuracy(registry / "post_drift" / "v1", stream)
        published = len(list((registry / "online").glob("v*/metadata.json")))

    print(f"batch models trained in {batch_seconds:.1f} s; the online job ran "
          f"{online_seconds:.1f} s and published {published} versions")
    print()
    print("window  phase  online  trained_once  post_drift_batch  online-post")
    for w in range(windows):
        phase = "pre" if w < drift else f"+{w - drift + 1}"
        shown = "     -" if np.isnan(online[w]) else f"{online[w]:6.3f}"
        gap = "" if np.isnan(online[w]) else f"{online[w] - post[w]:+.3f}"
        print(f"{w + 1:6d}  {phase:>5}  {shown}  {once[w]:12.3f}  {post[w]:16.3f}  {gap:>11}")
    print()

    pre_online = float(np.nanmean(online[:drift]))
    first, stays = recovery(online, post, drift)
    passed = stays is not None and stays <= REQUIRED_WINDOWS
    print(f"pre-drift accuracy: online {pre_online:.3f} (windows 2-{drift}), trained once "
          f"{once[:drift].mean():.3f}")
    print(f"post-drift accuracy: trained once {once[drift:].mean():.3f}, post-drift batch "
          f"{post[drift:].mean():.3f}, online {online[drift:].mean():.3f} (all windows), "
          f"online {np.mean(online[drift + REQUIRED_WINDOWS:]):.3f} (from window "
          f"+{REQUIRED_WINDOWS + 1})")
    print(f"online within {TOLERANCE} of the post-drift batch model: first at window "
          f"+{first}, and for good from window +{stays} "
          f"(required: within {REQUIRED_WINDOWS}) -> {'PASS' if passed else 'FAIL'}")

    _, flink_ml_stays = recovery(flink_ml, post, drift)
    print(f"with Flink ML's defaults (alpha 0.1, beta 0.1): within {TOLERANCE} for good from "
          f"window {'+' + str(flink_ml_stays) if flink_ml_stays else 'never'}; post-drift "
          f"accuracy {np.mean(flink_ml[drift:]):.3f}")

    plot(args.out, online, once, post, drift)
    print(f"plot: {args.out} ({args.out.stat().st_size / 1024:.1f} kB)")
    print(summary("online_drift", windows=windows, window_rows=args.window_rows,
                  pre_drift_online=pre_online, recovered_after=stays if stays else "never",
                  required=REQUIRED_WINDOWS, result="PASS" if passed else "FAIL"))


if __name__ == "__main__":
    main()

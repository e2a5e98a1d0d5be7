"""Synthetic card transactions with fraud patterns a model can learn.

Each card has a home, a typical spend and a habit of shopping by day. Legitimate
transactions follow the card's habits; fraudulent ones (about 2%) drift from them: amounts
several times the card's average, risky merchant categories, night hours, far from home,
online, and in bursts (many transactions in 24 hours). The patterns overlap, so no single
rule separates the classes.

    python examples/fraud/generate.py OUT_DIR [--history N] [--live N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CATEGORIES = np.array(["grocery", "gas", "restaurant", "pharmacy", "online_retail",
                       "electronics", "travel", "jewelry", "atm_withdrawal"])
LEGIT_WEIGHTS = np.array([0.28, 0.16, 0.18, 0.07, 0.14, 0.05, 0.05, 0.02, 0.05])
FRAUD_WEIGHTS = np.array([0.04, 0.05, 0.03, 0.02, 0.30, 0.22, 0.07, 0.12, 0.15])
CATEGORY_SCALE = dict(zip(CATEGORIES, [1.0, 0.8, 0.9, 0.6, 1.5, 4.0, 6.0, 5.0, 2.5],
                          strict=True))
FRAUD_RATE = 0.02


def transactions(n: int, rng: np.random.Generator, start_id: int = 0,
                 start: str = "2026-11-01") -> pd.DataFrame:
    cards = 5_000
    card_avg = rng.lognormal(mean=3.6, sigma=0.6, size=cards)  # a card's typical spend
    card_id = rng.integers(0, cards, size=n)
    fraud = rng.random(n) < FRAUD_RATE

    category = np.where(fraud, rng.choice(CATEGORIES, n, p=FRAUD_WEIGHTS),
                        rng.choice(CATEGORIES, n, p=LEGIT_WEIGHTS))
    scale = pd.Series(category).map(CATEGORY_SCALE).to_numpy()
    base = card_avg[card_id] * scale
    amount = np.where(fraud, base * rng.lognormal(1.1, 0.8, n), base * rng.lognormal(0, 0.5, n))

    legit_hour = np.clip(rng.normal(14, 4, n), 0, 23.99)
    fraud_hour = np.where(rng.random(n) < 0.55, rng.uniform(0, 6, n), rng.uniform(0, 24, n))
    hour = np.where(fraud, fraud_hour, legit_hour).astype(int)

    distance = np.where(fraud, rng.lognormal(3.5, 1.6, n), rng.exponential(6, n))
    online = np.where(fraud, rng.random(n) < 0.6, rng.random(n) < 0.25)
    count_24h = np.where(fraud, rng.poisson(7, n) + 1, rng.poisson(2.5, n) + 1)

    offsets = np.sort(rng.uniform(0, 30 * 86_400, n))
    tx_time = pd.Timestamp(start) + pd.to_timedelta(offsets, unit="s")
    frame = pd.DataFrame({
        "tx_id": np.arange(start_id, start_id + n),
        "tx_time": tx_time.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
        "card_id": card_id,
        "merchant_category": category,
        "amount": amount.round(2),
        "hour_of_day": hour,
        "distance_from_home_km": distance.round(2),
        "online": online,
        "tx_count_24h": count_24h,
        "amount_to_card_avg": (amount / card_avg[card_id]).round(3),
        "is_fraud": fraud.astype(int),
    })
    # Real feeds have gaps: a few distances are unknown.
    frame.loc[rng.random(n) < 0.01, "distance_from_home_km"] = np.nan
    return frame


def example_arguments(description: str | None) -> argparse.Namespace:
    """The fraud examples' shared command line: --registry, --history, --live."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--registry", help="model registry (default: a fresh one of this "
                                           "example's under examples/fraud/data/registries/)")
    parser.add_argument("--history", type=int, default=200_000)
    parser.add_argument("--live", type=int, default=50_000)
    return parser.parse_args()


def example_registry(example: str, chosen: str | None) -> str:
    """The registry an example trains into: `chosen`, else its own under data/registries/
    (ignored by git), emptied first so that every run publishes version 1; printed."""
    if chosen is None:
        path = Path(__file__).resolve().parent / "data" / "registries" / example
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        chosen = str(path)
    print(f"models of this example: {chosen}", file=sys.stderr)
    return chosen


def write(out_dir: Path, history_rows: int, live_rows: int, seed: int = 7) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    history = transactions(history_rows, rng)
    live = transactions(live_rows, rng, start_id=history_rows, start="2026-12-01")
    history.to_csv(out_dir / "history.csv", index=False, header=False)
    live.drop(columns="is_fraud").to_csv(out_dir / "live.csv", index=False, header=False)
    live[["tx_id", "is_fraud"]].to_csv(out_dir / "live_truth.csv", index=False, header=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--history", type=int, default=200_000)
    parser.add_argument("--live", type=int, default=50_000)
    args = parser.parse_args()
    write(args.out_dir, args.history, args.live)

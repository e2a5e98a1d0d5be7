"""Card transactions whose fraud pattern changes, and the labels that come days later.

Before the change, fraud is large, at night and far from home (jewelry, electronics, travel);
after it, fraud is small online purchases of gift cards near home by day, and legitimate
amounts grow by 80%. Each transaction gets its label (chargeback or not) 1 to 30 days of
event time later; 1% of labels come 30 to 32 days later (late) and 2% never come.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-01-01")
CATEGORIES = np.array(["grocery", "gas", "restaurant", "pharmacy", "online_retail",
                       "electronics", "travel", "jewelry", "gift_cards"])
LEGIT = np.array([0.30, 0.17, 0.20, 0.08, 0.15, 0.05, 0.04, 0.01, 0.0])
FRAUD_BEFORE = np.array([0.02, 0.02, 0.02, 0.01, 0.13, 0.30, 0.25, 0.25, 0.0])
FRAUD_AFTER = np.array([0.0, 0.0, 0.0, 0.0, 0.35, 0.0, 0.0, 0.0, 0.65])
FRAUD_RATE = 0.05
LABEL_DAYS = 30


def transactions(days: float, per_day: int, change_day: float, seed: int,
                 first_id: int = 0, start: pd.Timestamp = START) -> pd.DataFrame:
    """`days` of transactions from `start`, in event-time order; the pattern changes at
    `change_day` (days after START)."""
    rng = np.random.default_rng(seed)
    n = int(days * per_day)
    offset = np.sort(rng.uniform(0, days * 86400, n))
    event_time = start + pd.to_timedelta(offset.round(3), unit="s")
    after = ((event_time - START) / pd.Timedelta(days=1)).to_numpy() >= change_day
    fraud = rng.random(n) < FRAUD_RATE
    category = np.where(fraud & after, rng.choice(CATEGORIES, n, p=FRAUD_AFTER),
                        np.where(fraud, rng.choice(CATEGORIES, n, p=FRAUD_BEFORE),
                                 rng.choice(CATEGORIES, n, p=LEGIT)))
    amount = rng.lognormal(3.4, 0.7, n) * np.where(after, 1.8, 1.0)
    amount = np.where(fraud & ~after, amount * rng.uniform(4, 12, n), amount)
    amount = np.where(fraud & after, rng.lognormal(3.2, 0.3, n), amount)
    hour = np.where(fraud & ~after, rng.choice([0, 1, 2, 3, 4, 23], n),
                    rng.normal(14, 3.5, n).clip(6, 22).round())
    distance = np.where(fraud & ~after, rng.lognormal(5.5, 1.0, n), rng.lognormal(1.5, 1.0, n))
    online = np.where(fraud, (rng.random(n) < 0.6) | after, rng.random(n) < 0.3)
    return pd.DataFrame({
        "tx_id": np.arange(first_id, first_id + n), "event_time": event_time,
        "amount": amount.round(2), "category": category, "hour_of_day": hour.astype(int),
        "distance_km": distance.round(2), "online": online, "is_fraud": fraud.astype(int)})


def labels(tx: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each transaction's label and when it arrives; some late, some never."""
    rng = np.random.default_rng(seed)
    n = len(tx)
    days = rng.uniform(1, LABEL_DAYS, n)
    late = rng.random(n) < 0.01
    days = np.where(late, rng.uniform(LABEL_DAYS, LABEL_DAYS + 2, n), days)
    frame = pd.DataFrame({"tx_id": tx["tx_id"].to_numpy(),
                          "labelled_at": tx["event_time"] + pd.to_timedelta(days, unit="D"),
                          "is_fraud": tx["is_fraud"].to_numpy()})
    return frame[rng.random(n) >= 0.02].sort_values("labelled_at", ignore_index=True)

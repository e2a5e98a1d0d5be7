"""Watching a model: its data against what it was trained on, and when to train it again.

profile         a training set's per-column distributions, stored with each model version
                (profile.json), and the SQL that puts a live row's value in the same bucket
statistics      two distributions compared: Jensen-Shannon divergence, L-infinity distance,
                population stability index, null-rate change, unseen categories
statistics_sql  the same statistics as Flink SQL over a window's bucket counts
windows         the windowed comparison as one Flink SQL query, for a stream
policy          a model's retraining policy (`retrain.*` options) and its condition
events          what the retraining service did and why (retraining.jsonl)
"""

"""Foundations every layer may use: durations, progress steps, the session policy, paths."""

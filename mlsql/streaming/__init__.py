"""Streaming jobs: checkpoints to resume from."""

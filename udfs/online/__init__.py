"""Online learning on Flink's workers: models updated window by window from a stream."""

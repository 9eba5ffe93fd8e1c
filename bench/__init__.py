"""The throughput benchmark of issue 7: sandbox runner, naive baseline, metrics and the table."""

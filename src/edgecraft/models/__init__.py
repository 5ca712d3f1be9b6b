"""Small models edgecraft builds itself: for the demo, tests and benchmarks (no downloads)."""

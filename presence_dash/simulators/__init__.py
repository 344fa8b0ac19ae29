"""Faithful local stand-ins for the vendor APIs, for the demo, the tests and the benchmarks."""

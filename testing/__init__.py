"""Helpers shared by the test suites and the benchmarks: test databases, stand-in APIs, seeded CRMs, events.

Nothing here is a pytest fixture (fixtures live in the conftest files); benches import these modules too.
"""

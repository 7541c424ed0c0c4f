"""Rescans: measure, judge on the one evaluation path, merge in one transaction.

Also the nightly schedule and partitioned runs on Dask over read replicas.
"""

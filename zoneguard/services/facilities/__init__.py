"""Facilities near schools: kinds (data), registry, required-facility checks, coverage."""

"""Ingest: registry files (schools, gates, premises, facilities) and walking networks."""

"""Read models shared by maps, reports, the workbench and OGC (below all of them)."""

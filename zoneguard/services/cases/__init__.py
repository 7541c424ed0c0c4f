"""The case loop of findings: the workflow, its supervision (督办), evidence and measurements."""

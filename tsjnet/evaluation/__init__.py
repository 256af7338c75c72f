"""The evaluate stage: fuse the test split with every method, fusion metrics, task-driven evaluation, report."""

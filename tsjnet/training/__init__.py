"""Training loops: task-network pretraining and the generic helpers they share."""

"""`tsjnet research`: the TSJNet paper's research questions answered by training runs of this pipeline."""

"""`tsjnet bench`: speed figures measured in one run, so ratios between them mean something on a noisy machine."""

"""Label completion for the pseudolabel stage: boxes from masks, masks from boxes (GrabCut), teacher boxes,
provenance of every label and the measured quality of each derivation."""

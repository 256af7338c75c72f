"""Fusion losses: TSJNet's L_MFF and SeAFusion's content loss, built from one set of content terms."""

from tsjnet.losses.content import seafusion_loss
from tsjnet.losses.mff import mff_loss

__all__ = ["mff_loss", "seafusion_loss"]

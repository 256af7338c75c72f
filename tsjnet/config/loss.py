"""Params for the fusion losses: every weight of every term, so no loss constant hides in code."""

from pydantic import Field, field_validator

from tsjnet.config.base import Section


class TsjnetLossParams(Section):
    """`loss.tsjnet:` TSJNet's L_MFF = a1 L_div + L_ssim + a2 L'_mse + a3 L''_mse, plus content terms.

    The first four weights are the paper's (a1 = 0.1, a2 = 6, a3 = 1). The content terms (intensity,
    texture, gradient-weighted SSIM) are the authors' released training code (20, 20, 10); set them to 0
    for the paper's L_MFF alone.
    """

    diversity: float = Field(ge=0, description="a1: diversity between the decoder's attention heads")
    ssim: float = Field(ge=0, description="weight of L_ssim (1 - SSIM to IR) + (1 - SSIM to VIS)")
    recon_vi: float = Field(ge=0, description="a2: MSE of the VIS reconstruction (encoder+decoder)")
    recon_ir: float = Field(ge=0, description="a3: MSE of the IR reconstruction (encoder+decoder)")
    intensity: float = Field(ge=0, description="L1 to the element-wise max intensity")
    texture: float = Field(ge=0, description="L1 of the Sobel magnitude to the max source gradient")
    weighted_ssim: float = Field(ge=0, description="1 - gradient-weighted SSIM to the two sources")
    ssim_window: int = Field(ge=3, description="Gaussian window of every SSIM term (odd)")

    @field_validator("ssim_window")
    @classmethod
    def _odd_window(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"must be odd (SSIM's Gaussian window is centred), got {value}")
        return value


class SeafusionLossParams(Section):
    """`loss.seafusion:` SeAFusion's content loss L_int + 10 L_texture (Tang et al. 2022)."""

    intensity: float = Field(ge=0, description="L1 to the element-wise max intensity")
    texture: float = Field(ge=0, description="L1 of the Sobel magnitude to the max source gradient")


class LossParams(Section):
    """`loss:` section: one sub-section per trained fusion model."""

    tsjnet: TsjnetLossParams
    seafusion: SeafusionLossParams

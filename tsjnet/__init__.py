"""TSJNet: infrared + visible image fusion driven by detection and segmentation."""

__version__ = "0.1.0"

"""Errors users see: each names the offending file or key and says how to fix it."""


class TsjnetError(Exception):
    """Base of every error the CLI and stages report without a traceback."""


class DataError(TsjnetError):
    """Bad or missing input data (corrupt image, size mismatch, missing partner, bad label)."""

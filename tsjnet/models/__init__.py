"""Fusion networks (one family per file) and their name registry (`tsjnet.models.registry.create_model`)."""

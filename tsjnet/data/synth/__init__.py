"""SynthScenes internals: scene geometry painted once into a part map, rendered twice (IR heat, VIS light).

The public entry points live in `tsjnet.data.synthscenes`.
"""

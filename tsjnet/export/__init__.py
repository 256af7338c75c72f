"""Edge export: fusion models as ONNX graphs (any height and width) and the runtimes that run them."""

"""Task networks that drive and judge the fusion: a Faster R-CNN detector and a DeepLabV3+ segmenter."""

"""The sample model's architecture in PyTorch: what `model.onnx` would have come from.

`model.onnx` is written by scripts/make-sample.ts with hand-set weights (see README.md), not
exported from this file, but its node and parameter names are the ones torch.onnx.export gives
this module tree (`/features/conv1/Conv`, `features.conv1.weight`, `/classifier/fc/Gemm`, ...),
so the Models view's "Go to Source" lands on the lines below. To export it yourself:

    model = ShapesColourNet().eval()
    torch.onnx.export(model, torch.zeros(1, 3, 64, 64), "model.onnx",
                      input_names=["input"], output_names=["logits"], opset_version=17)
"""

import torch
from torch import nn

NUM_CLASSES = 4  # red, green, blue, yellow (labels.txt)


class Features(nn.Module):
    """Colour-opponent detectors (conv1), pooled, then combined (conv2)."""

    def __init__(self, k: int = NUM_CLASSES) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, k, kernel_size=3, padding=1)  # (1, 4, 64, 64)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)  # (1, 4, 32, 32)
        self.conv2 = nn.Conv2d(k, 2 * k, kernel_size=3, padding=1)  # (1, 8, 32, 32)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        return self.relu2(self.conv2(x))


class Classifier(nn.Module):
    def __init__(self, k: int = NUM_CLASSES) -> None:
        super().__init__()
        self.fc = nn.Linear(2 * k, k)  # (1, 8) -> logits (1, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class ShapesColourNet(nn.Module):
    def __init__(self, k: int = NUM_CLASSES) -> None:
        super().__init__()
        self.features = Features(k)
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # exported as GlobalAveragePool, (1, 8, 1, 1)
        self.classifier = Classifier(k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        x = torch.flatten(x, 1)  # /Flatten, (1, 8)
        return self.classifier(x)

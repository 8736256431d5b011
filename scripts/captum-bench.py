#!/usr/bin/env python3
"""Captum's side of `npm run bench -- --captum DIR` (DIR: a Captum checkout on PYTHONPATH).

Builds torchvision's ResNet-18 (seeded random weights, eval mode), exports it to ONNX for the
engine to run, and times Captum's methods on that model and input with the benchmark's
parameters: warm medians, the given number of threads. Prints one JSON object on stdout.
"""
import argparse
import json
import statistics
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx-out", required=True, help="where the exported model goes")
    ap.add_argument("--input-out", required=True, help="where the input goes (.npy)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    args = ap.parse_args()

    import numpy as np
    import torch
    import torchvision
    import captum
    from captum.attr import IntegratedGradients, LayerGradCam, NoiseTunnel, Occlusion, Saliency

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.rand(1, 3, 224, 224)
    torch.onnx.export(model, x, args.onnx_out, input_names=["input"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    np.save(args.input_out, x.numpy())

    target = 3
    cases = {
        "saliency": lambda: Saliency(model).attribute(x, target=target),
        "gradcam": lambda: LayerGradCam(model, model.layer4[-1]).attribute(x, target=target),
        "integrated-gradients-50": lambda: IntegratedGradients(model).attribute(x, target=target, n_steps=50),
        "smoothgrad-20": lambda: NoiseTunnel(Saliency(model)).attribute(x, nt_type="smoothgrad", nt_samples=20, stdevs=0.1, target=target),
        "occlusion-15-8": lambda: Occlusion(model).attribute(x, target=target, sliding_window_shapes=(3, 15, 15), strides=(3, 8, 8), perturbations_per_eval=16),
    }
    only = [s for s in args.only.split(",") if s]

    def median_time(fn, n):
        fn()  # warm
        ts = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    with torch.no_grad():
        forward = median_time(lambda: model(x), 21)
    out = {"_versions": {"captum": captum.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
                         "threads": torch.get_num_threads()}, "_forward": forward}
    for name, fn in cases.items():
        if only and name not in only:
            continue
        # millisecond methods get more rounds, occlusion fewer
        n = max(args.repeat, 21) if name in ("saliency", "gradcam") else min(args.repeat, 3) if name.startswith("occlusion") else args.repeat
        out[name] = median_time(fn, n)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

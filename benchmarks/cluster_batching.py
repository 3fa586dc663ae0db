"""Does one encoder call for several streams' frames pay on this CPU, one thread?

A ``StreamPool`` worker serving S streams could stack their next frames into one encoder call
of batch S instead of S calls of batch 1. The packaged graphs are exported with batch 1, so
this script measures the question directly on the model: the eager PyTorch encoder (fused
attention) and ONNX Runtime / OpenVINO on an encoder exported here with a dynamic batch. For
each engine and batch size B it times, interleaved, one call of batch B against B calls of
batch 1, and reports ms per frame.

    python benchmarks/cluster_batching.py [--model pavenet-tiny] [--batches 2,4,8] [--repeats 15]

writes ``benchmarks/results/cluster_batching.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results" / "cluster_batching.json"


def engines(model, image_shape: tuple[int, ...], folder: Path) -> dict:
    """name -> encode(images (B, 3, H, W)) for every engine installed."""
    import numpy as np
    import torch

    from pavenet_sdk.export import ONNX_OPSET, EncoderGraph

    def eager(images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model.encode_frame(torch.from_numpy(images)).numpy()

    found = {"torch (eager, fused)": eager}
    model.set_fused_attention(False)  # the exported graph takes the portable grid_sample path
    path = folder / "encoder-dynamic-batch.onnx"
    torch.onnx.export(
        EncoderGraph(model).eval(), (torch.zeros(image_shape),), str(path),
        input_names=["image"], output_names=["memory"], opset_version=ONNX_OPSET,
        dynamic_axes={"image": {0: "batch"}, "memory": {0: "batch"}}, dynamo=False,
    )  # fmt: skip
    model.set_fused_attention(True)
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        found["onnxruntime"] = lambda images: session.run(None, {"image": images})[0]
    except ImportError:
        pass
    try:
        import openvino as ov

        compiled = ov.Core().compile_model(
            str(path), "CPU", {"INFERENCE_NUM_THREADS": 1, "INFERENCE_PRECISION_HINT": "f32"}
        )
        found["openvino"] = lambda images: compiled(images)[0]
    except ImportError:
        pass
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pavenet-tiny", help="package with a torch checkpoint")
    parser.add_argument("--batches", default="2,4,8")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    from benchmarks.common import Case, interleave, load1
    from pavenet_sdk.checkpoint import load_model
    from pavenet_sdk.runtime.models import resolve_model
    from pavenet_sdk.runtime.package import load_package

    torch.set_num_threads(1)
    package = load_package(resolve_model(args.model))
    model = load_model(package.graph("torch", "checkpoint")).eval()
    w, h = package.input_resolution
    batches = [int(b) for b in args.batches.split(",")]
    rng = np.random.default_rng(0)
    images = rng.standard_normal((max(batches), 3, h, w)).astype(np.float32)
    rows = []
    load_before = load1()
    with tempfile.TemporaryDirectory() as tmp:
        for name, encode in engines(model, (1, 3, h, w), Path(tmp)).items():
            single = encode(images[:1])
            np.testing.assert_allclose(encode(images[:2])[:1], single, atol=1e-3, rtol=1e-3)
            for b in batches:
                batch = images[:b]
                cases = [
                    Case("batched", lambda f=encode, x=batch: f(x)),
                    Case("one by one", lambda f=encode, x=batch: [f(i[None]) for i in x]),
                ]
                stats = interleave(cases, args.repeats)
                per_frame = {k: round(v["median_ms"] / b, 2) for k, v in stats.items()}
                gain = round(per_frame["one by one"] / per_frame["batched"], 3)
                rows.append({"engine": name, "batch": b, "ms_per_frame": per_frame, "gain": gain})
    report = {"model": package.name, "input": [w, h], "threads": 1, "repeats": args.repeats,
              "load_before": load_before, "load_after": load1(), "rows": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"encoder of {package.name} at {w}x{h}, 1 thread, median of {args.repeats}:")
    print("| engine | batch | ms/frame batched | ms/frame one by one | gain |")
    print("|---|---|---|---|---|")
    for r in rows:
        m = r["ms_per_frame"]
        print(f"| {r['engine']} | {r['batch']} | {m['batched']} | {m['one by one']} | "
              f"{r['gain']}x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: MIT
# The peers of deform-conv.cuda-bench.ts on the same suite (suite.json) and with the same method (CUDA
# events, warm-up, median, rotating input sets larger than L2): torchvision.ops.deform_conv2d (fp32,
# fp16) and cuDNN's dense conv2d (fp32 with and without TF32, fp16), forward and forward + backward.
# Writes $OUT/bench-torch.json.
import json
import os
import sys

import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv
WARMUP, RUNS = (2, 5) if QUICK else (5, 25)
L2 = 50e6


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def time_it(sets, prepare):
    ms = []
    for i in range(WARMUP + RUNS):
        run = prepare(i % sets)
        torch.cuda.synchronize()
        e0 = torch.cuda.Event(enable_timing=True)
        e1 = torch.cuda.Event(enable_timing=True)
        e0.record()
        run()
        e1.record()
        e1.synchronize()
        if i >= WARMUP:
            ms.append(e0.elapsed_time(e1))
    return ms


def main():
    suite = json.load(open(os.path.join(HERE, "suite.json")))
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(0)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, cuDNN {torch.backends.cudnn.version()}, "
          f"{props.name} ({props.multi_processor_count} SMs): warm-up {WARMUP}, median of {RUNS}")
    torch.backends.cuda.matmul.allow_tf32 = False  # torchvision's GEMM in IEEE fp32 (the default)
    rows = []
    for s in suite["shapes"]:
        B, C, H, OG = s["batch"], s["channels"], s["size"], s["offsetGroups"]
        K = 9
        gflop = 2 * B * C * H * H * C * K / 1e9
        variants = [
            ("torchvision fp32", "tv", torch.float32, False),
            ("torchvision fp16", "tv", torch.float16, False),
            ("cuDNN fp32", "cudnn", torch.float32, False),
            ("cuDNN tf32", "cudnn", torch.float32, True),
            ("cuDNN fp16", "cudnn", torch.float16, False),
        ]
        for label, kind, dtype, tf32 in variants:
            torch.backends.cudnn.allow_tf32 = tf32
            esize = 4 if dtype == torch.float32 else 2
            per_set = (B * C * H * H + B * OG * 3 * K * H * H) * esize
            sets = max(2, -(-int(2 * L2) // per_set))
            w = torch.randn(C, C, 3, 3, device=dev, dtype=dtype)
            bias = torch.randn(C, device=dev, dtype=dtype)
            data = [(torch.randn(B, C, H, H, device=dev, dtype=dtype),
                     torch.randn(B, OG * 2 * K, H, H, device=dev, dtype=dtype),
                     torch.rand(B, OG * K, H, H, device=dev, dtype=dtype)) for _ in range(sets)]

            def fwd(x, off, m, w_, b_):
                if kind == "tv":
                    return torchvision.ops.deform_conv2d(x, off, w_, b_, padding=1, mask=m)
                return F.conv2d(x, w_, b_, padding=1)

            def prep_f(i):
                x, off, m = data[i]
                return lambda: fwd(x, off, m, w, bias)

            def prep_b(i):
                leaves = [t.detach().requires_grad_() for t in (*data[i], w, bias)]
                x, off, m, w_, b_ = leaves
                y = fwd(x, off, m, w_, b_)
                g = torch.randn_like(y)
                used = leaves if kind == "tv" else [x, w_, b_]
                return lambda: torch.autograd.grad(y, used, g)

            try:
                f = time_it(sets, prep_f)
                bw = time_it(sets, prep_b)
            except RuntimeError as e:  # e.g. a dtype torchvision does not support
                print(f"{s['name']:8} {label:18} failed: {str(e).splitlines()[0]}")
                continue
            row = {"shape": s["name"], "variant": label, "forwardMs": median(f),
                   "forwardSpread": [min(f), max(f)], "backwardMs": median(bw), "gflop": gflop}
            row["tflops"] = gflop / row["forwardMs"]
            rows.append(row)
            print(f"{s['name']:8} {label:18} fwd {row['forwardMs']:.3f} ms ({min(f):.3f}-{max(f):.3f})  "
                  f"bwd {row['backwardMs']:.3f} ms  {row['tflops']:.1f} TFLOP/s fwd")
            del data, w, bias
            torch.cuda.empty_cache()
    torch.backends.cudnn.allow_tf32 = True
    out = os.path.join(os.environ.get("OUT", "."), "bench-torch.json")
    json.dump({"device": props.name, "torch": torch.__version__, "torchvision": torchvision.__version__,
               "warmup": WARMUP, "runs": RUNS, "rows": rows}, open(out, "w"), indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

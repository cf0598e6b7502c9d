# SPDX-License-Identifier: MIT
# The peers of deform-conv.cuda-bench.ts on the same suite (suite.json) and with the same method (CUDA
# events, warm-up, median, rotating input sets larger than L2): torchvision.ops.deform_conv2d (fp32,
# fp16; 2D regular only) and cuDNN's dense convolution of the same geometry (conv1d/2d/3d,
# conv_transpose1d/2d/3d; fp32 with and without TF32, fp16, bf16), forward and forward + backward
# (torchvision: all five gradients; cuDNN: input, weight and bias).
# Writes $OUT/bench-torch.json.
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = "--quick" in sys.argv
# --hide-host: as the TS bench's NOTE [ The host hidden ], ~0.2 ms of queued GPU work (an in-place add over 64 Mi
# float32 values, no allocation) before each timed call's first event, so the figure is the call's GPU time alone; its
# difference from a run without the flag is PyTorch's host share. A diagnostic, not a bench figure.
HIDE_HOST = "--hide-host" in sys.argv
FILLER = None
WARMUP, RUNS = (2, 5) if QUICK else (5, 25)
L2 = 50e6


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def cases(suite):
    """The 2D shapes and the 1D/3D/transposed ops of suite.json in one form (as the TS benchmark)."""
    out = [{"name": s["name"], "dim": 2, "transposed": False, "batch": s["batch"], "inChannels": s["channels"],
            "outChannels": s["channels"], "size": [s["size"], s["size"]], "kernel": 3, "stride": 1, "padding": 1,
            "offsetGroups": s["offsetGroups"]} for s in suite["shapes"]]
    return out + [dict(o, offsetGroups=1) for o in suite["ops"]]


HOST_MS = []


def time_it(sets, prepare):
    """CUDA-event milliseconds of each timed run; the host milliseconds of the timed part go to HOST_MS."""
    ms = []
    HOST_MS.clear()
    for i in range(WARMUP + RUNS):
        run = prepare(i % sets)
        torch.cuda.synchronize()
        if FILLER is not None:
            FILLER.add_(1)
        e0 = torch.cuda.Event(enable_timing=True)
        e1 = torch.cuda.Event(enable_timing=True)
        e0.record()
        h0 = time.perf_counter()
        run()
        h1 = time.perf_counter()
        e1.record()
        e1.synchronize()
        if i >= WARMUP:
            ms.append(e0.elapsed_time(e1))
            HOST_MS.append((h1 - h0) * 1e3)
    return ms


def main():
    suite = json.load(open(os.path.join(HERE, "suite.json")))
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(0)
    global FILLER
    if HIDE_HOST:
        FILLER = torch.zeros(64 << 20, device=dev, dtype=torch.float32)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, cuDNN {torch.backends.cudnn.version()}, "
          f"{props.name} ({props.multi_processor_count} SMs): warm-up {WARMUP}, median of {RUNS}")
    torch.backends.cuda.matmul.allow_tf32 = False  # torchvision's GEMM in IEEE fp32 (the default)
    rows = []
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    for s in cases(suite):
        if only and s["name"] not in only:
            continue
        B, CI, CO, dim, tr = s["batch"], s["inChannels"], s["outChannels"], s["dim"], s["transposed"]
        k, st, pd, OG = s["kernel"], s["stride"], s["padding"], s["offsetGroups"]
        K = k ** dim
        insz = list(s["size"])
        outsz = [((n - 1) * st - 2 * pd + k) if tr else ((n + 2 * pd - k) // st + 1) for n in insz]
        grid = insz if tr else outsz
        gflop = 2 * B * K * CI * CO * prod(insz if tr else outsz) / 1e9
        variants = [
            ("cuDNN fp32", "cudnn", torch.float32, False),
            ("cuDNN tf32", "cudnn", torch.float32, True),
            ("cuDNN fp16", "cudnn", torch.float16, False),
            ("cuDNN bf16", "cudnn", torch.bfloat16, False),
        ]
        if dim == 2 and not tr:
            variants = [("torchvision fp32", "tv", torch.float32, False),
                        ("torchvision fp16", "tv", torch.float16, False)] + variants
        wshape = [CI, CO] + [k] * dim if tr else [CO, CI] + [k] * dim
        dense = {(1, False): F.conv1d, (2, False): F.conv2d, (3, False): F.conv3d,
                 (1, True): F.conv_transpose1d, (2, True): F.conv_transpose2d, (3, True): F.conv_transpose3d}[(dim, tr)]
        for label, kind, dtype, tf32 in variants:
            torch.backends.cudnn.allow_tf32 = tf32
            esize = 4 if dtype == torch.float32 else 2
            per_set = (B * CI * prod(insz) + B * OG * (dim + 1) * K * prod(grid)) * esize
            sets = max(2, -(-int(2 * L2) // per_set))
            w = torch.randn(*wshape, device=dev, dtype=dtype)
            bias = torch.randn(CO, device=dev, dtype=dtype)
            data = [(torch.randn(B, CI, *insz, device=dev, dtype=dtype),
                     torch.randn(B, OG * dim * K, *grid, device=dev, dtype=dtype),
                     torch.rand(B, OG * K, *grid, device=dev, dtype=dtype)) for _ in range(sets)]

            def fwd(x, off, m, w_, b_):
                if kind == "tv":
                    return torchvision.ops.deform_conv2d(x, off, w_, b_, padding=pd, mask=m)
                return dense(x, w_, b_, stride=st, padding=pd)

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
                f_host = median(HOST_MS)
                bw = time_it(sets, prep_b)
            except RuntimeError as e:  # e.g. a dtype torchvision does not support
                print(f"{s['name']:8} {label:18} failed: {str(e).splitlines()[0]}")
                continue
            row = {"shape": s["name"], "variant": label, "forwardMs": median(f),
                   "forwardSpread": [min(f), max(f)], "backwardMs": median(bw), "gflop": gflop, "forwardHostMs": f_host}
            row["tflops"] = gflop / row["forwardMs"]
            rows.append(row)
            print(f"{s['name']:8} {label:18} fwd {row['forwardMs']:.3f} ms ({min(f):.3f}-{max(f):.3f})  "
                  f"bwd {row['backwardMs']:.3f} ms  {row['tflops']:.1f} TFLOP/s fwd  host {f_host:.3f} ms")
            del data, w, bias
            torch.cuda.empty_cache()
    torch.backends.cudnn.allow_tf32 = True
    out = os.path.join(os.environ.get("OUT", "."), "bench-torch.json")
    json.dump({"device": props.name, "torch": torch.__version__, "torchvision": torchvision.__version__,
               "warmup": WARMUP, "runs": RUNS, "rows": rows}, open(out, "w"), indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

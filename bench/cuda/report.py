# SPDX-License-Identifier: MIT
# Merges bench-ours.json and bench-torch.json (from $OUT) into markdown tables: the ratios of our time to
# cuDNN's dense convolution of the same geometry and dtype (forward, forward + backward), the speed-up
# over torchvision fp32, the fraction of the tensor-core peak reached, and every row (medians, TFLOP/s).
# Prints them and writes $OUT/bench.md.
import json
import os

OUT = os.environ.get("OUT", ".")
HERE = os.path.dirname(os.path.abspath(__file__))
# Ceilings measured on this workplace's H200s (device KINDS.md: bf16 matrix product 769-798 TFLOP/s on
# random data, copy 4.3 TB/s); TF32 at half the 16-bit rate (the datasheet's ratio).
PEAK = {"fp16": 790e12, "bf16": 790e12, "tf32": 395e12}


def load(name):
    p = os.path.join(OUT, name)
    return json.load(open(p)) if os.path.exists(p) else {"rows": []}


def names():
    suite = json.load(open(os.path.join(HERE, "suite.json")))
    return [s["name"] for s in suite["shapes"]] + [o["name"] for o in suite["ops"]]


def main():
    ours = load("bench-ours.json")["rows"]
    torch = load("bench-torch.json")["rows"]

    def get(rows, shape, variant):
        return next((r for r in rows if r["shape"] == shape and r["variant"] == variant), None)

    def ratio(a, b, key):
        if not a or not b:
            return "-"
        fa = a["forwardMs"] + (a["backwardMs"] if key == "fb" else 0)
        fb = b["forwardMs"] + (b["backwardMs"] if key == "fb" else 0)
        return f"{fa / fb:.2f}x"

    ratios = ["| shape | fp16 fwd | bf16 fwd | tf32 fwd | fp32 (3xTF32) fwd vs cuDNN fp32 | fp16 fwd+bwd | bf16 fwd+bwd | "
              "tf32 fwd+bwd | fp32 fwd speed-up vs torchvision fp32 | fp16 fwd % of TC peak | tf32 fwd % of TC peak | "
              "fp16 fused (forced) speed-up over im2col + GEMM |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names():
        o = {v: get(ours, n, v) for v in ("fp32", "tf32", "fp16", "bf16", "fp16 unfused", "fp16 fused")}
        c = {v: get(torch, n, "cuDNN " + v) for v in ("fp32", "tf32", "fp16", "bf16")}
        tv = get(torch, n, "torchvision fp32")
        if not any(o.values()):
            continue
        sp = f"{tv['forwardMs'] / o['fp32']['forwardMs']:.2f}x" if tv and o["fp32"] else "-"
        pk16 = f"{100 * o['fp16']['gflop'] * 1e9 / (o['fp16']['forwardMs'] * 1e-3) / PEAK['fp16']:.0f}%" if o["fp16"] else "-"
        pk32 = f"{100 * o['tf32']['gflop'] * 1e9 / (o['tf32']['forwardMs'] * 1e-3) / PEAK['tf32']:.0f}%" if o["tf32"] else "-"
        fu = (f"{o['fp16 unfused']['forwardMs'] / o['fp16 fused']['forwardMs']:.2f}x"
              if o["fp16 fused"] and o["fp16 unfused"] else "-")
        ratios.append(f"| {n} | {ratio(o['fp16'], c['fp16'], 'f')} | {ratio(o['bf16'], c['bf16'], 'f')} | "
                      f"{ratio(o['tf32'], c['tf32'], 'f')} | {ratio(o['fp32'], c['fp32'], 'f')} | "
                      f"{ratio(o['fp16'], c['fp16'], 'fb')} | {ratio(o['bf16'], c['bf16'], 'fb')} | "
                      f"{ratio(o['tf32'], c['tf32'], 'fb')} | {sp} | {pk16} | {pk32} | {fu} |")

    lines = ["| shape | impl | fwd ms (min-max) | fwd TFLOP/s | bwd ms | fwd+bwd ms |",
             "|---|---|---:|---:|---:|---:|"]
    for n in names():
        for label, r in [("ours " + r["variant"], r) for r in ours if r["shape"] == n] + \
                        [(r["variant"], r) for r in torch if r["shape"] == n]:
            lo, hi = r["forwardSpread"]
            lines.append(f"| {n} | {label} | {r['forwardMs']:.3f} ({lo:.3f}-{hi:.3f}) | {r['tflops']:.1f} | "
                         f"{r['backwardMs']:.3f} | {r['forwardMs'] + r['backwardMs']:.3f} |")
    text = ("Ours divided by cuDNN's dense convolution of the same geometry and dtype (lower is better; "
            "fwd+bwd: ours all five gradients, cuDNN input, weight and bias); TC peak: 790 TFLOP/s 16-bit, "
            "395 TF32 (H200, measured bf16 product).\n\n" + "\n".join(ratios) +
            "\n\nEvery row (medians; fwd+bwd = forward + backward of all gradients):\n\n" + "\n".join(lines) + "\n")
    print(text)
    open(os.path.join(OUT, "bench.md"), "w").write(text)


if __name__ == "__main__":
    main()

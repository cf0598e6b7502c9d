# SPDX-License-Identifier: MIT
# Merges bench-ours.json and bench-torch.json (from $OUT) into one markdown table: per shape, forward and
# forward+backward medians, TFLOP/s, ratios against torchvision fp32 and cuDNN, and the floors (FLOPs at
# the measured-peak rates, bytes at the copy bandwidth). Prints it and writes $OUT/bench.md.
import json
import os

OUT = os.environ.get("OUT", ".")
HERE = os.path.dirname(os.path.abspath(__file__))
# Ceilings measured on this workplace's H100 (docs/gpu.md): copy 3.0 TB/s, tf32 390, fp16 650 TFLOP/s;
# the fp32 CUDA-core peak (67 TFLOP/s at boost) is the datasheet's.
PEAK = {"fp32": 67e12, "tf32": 390e12, "fp16": 650e12}
BW = 3.0e12


def load(name):
    p = os.path.join(OUT, name)
    return json.load(open(p)) if os.path.exists(p) else {"rows": []}


def main():
    ours = load("bench-ours.json")["rows"]
    torch = load("bench-torch.json")["rows"]
    suite = {s["name"]: s for s in json.load(open(os.path.join(HERE, "suite.json")))["shapes"]}
    lines = ["| shape | impl | fwd ms | fwd TFLOP/s | fwd+bwd ms | fwd vs tv fp32 | fwd vs cuDNN fp32 |",
             "|---|---|---:|---:|---:|---:|---:|"]
    floors = ["| shape | GFLOP | min bytes fp32 (MB) | floor fp32 CUDA cores | floor tf32 | floor fp16 | floor bytes fp32 |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in suite.items():
        B, C, H, OG = s["batch"], s["channels"], s["size"], s["offsetGroups"]
        flop = 2 * B * C * H * H * C * 9
        nbytes = 4 * (2 * B * C * H * H + B * OG * 27 * H * H + C * C * 9 + C)
        floors.append(f"| {name} | {flop / 1e9:.1f} | {nbytes / 1e6:.0f} | {1e3 * flop / PEAK['fp32']:.3f} ms | "
                      f"{1e3 * flop / PEAK['tf32']:.3f} ms | {1e3 * flop / PEAK['fp16']:.3f} ms | {1e3 * nbytes / BW:.3f} ms |")
        tv = next((r for r in torch if r["shape"] == name and r["variant"] == "torchvision fp32"), None)
        cd = next((r for r in torch if r["shape"] == name and r["variant"] == "cuDNN fp32"), None)
        rows = [("ours " + r["variant"], r) for r in ours if r["shape"] == name] + \
               [(r["variant"], r) for r in torch if r["shape"] == name]
        for label, r in rows:
            vs_tv = f"{tv['forwardMs'] / r['forwardMs']:.2f}x" if tv else "-"
            vs_cd = f"{cd['forwardMs'] / r['forwardMs']:.2f}x" if cd else "-"
            lines.append(f"| {name} | {label} | {r['forwardMs']:.3f} | {r['tflops']:.1f} | "
                         f"{r['forwardMs'] + r['backwardMs']:.3f} | {vs_tv} | {vs_cd} |")
    text = ("Ratios are speed-ups (> 1: faster than the peer); fwd+bwd = forward + backward of all gradients.\n\n"
            + "\n".join(lines) + "\n\nFloors (FLOPs over peak rate; bytes = read input, offset, mask, weight once and "
            "write the output once, over 3.0 TB/s):\n\n" + "\n".join(floors) + "\n")
    print(text)
    open(os.path.join(OUT, "bench.md"), "w").write(text)


if __name__ == "__main__":
    main()

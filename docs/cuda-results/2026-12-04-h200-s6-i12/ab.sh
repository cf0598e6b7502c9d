#!/usr/bin/env bash
# Issue 12, sixth session (helper i12): a same-machine A/B of two addons on the 1D/3D/transposed ops,
# alternated A, B, A, B, then cuDNN's dense equivalents (torch_bench) once. Staged from an ignored
# .gpu-i12/ (the bundle of scripts/gpu-check.sh with the two addons stripped and xz-compressed:
# tvdcn_cuda.node.xz = B, base.node.xz = A); .device carried. Logs to $OUT.
#   AB_ONLY=tr2d-256,tr3d-64  AB_A_VARIANTS=fp32,tf32,fp16,bf16  AB_B_VARIANTS=(same + experiments)
set -u
source .device/setup.sh >/dev/null
rm -rf .gpu && cp -r .gpu-i12 .gpu
for f in .gpu/*.node.xz; do xz -d "$f"; done
export PYTHONUNBUFFERED=1
REAL_OUT=$OUT; export OUT=/tmp/o; mkdir -p $OUT
ROOT=$PWD; t0=$SECONDS
ONLY=${AB_ONLY:-tr2d-256,tr3d-64}
AV=${AB_A_VARIANTS:-fp32,tf32,fp16,bf16}
BV=${AB_B_VARIANTS:-$AV}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > $REAL_OUT/gpu.txt 2>&1
bench() { # tag, addon, variants
  mkdir -p $OUT/$1
  TVDCN_NATIVE_PATH=$PWD/.gpu/$2 OUT=$OUT/$1 timeout 150 node .gpu/cuda-bench.mjs --all --only "$ONLY" --variants "$3" > $OUT/bench-$1.log 2>&1
  echo "$1 rc=$? at $((SECONDS - t0)) s"
}
bench A1 base.node "$AV"
bench B1 tvdcn_cuda.node "$BV"
bench A2 base.node "$AV"
bench B2 tvdcn_cuda.node "$BV"
timeout 120 python3 .gpu/torch_bench.py --only "$ONLY" > $OUT/bench-torch.log 2>&1; echo "torch rc=$? at $((SECONDS - t0)) s"
cp $OUT/B1/bench-ours.json $OUT/bench-ours.json
(cd $OUT && python3 $ROOT/.gpu/report.py > $OUT/report.log 2>&1) || true
python3 .gpu/ab.py $OUT/bench-A1.log,$OUT/bench-A2.log $OUT/bench-B1.log,$OUT/bench-B2.log > $OUT/ab.md 2>&1
cd $OUT && tar -cJf $REAL_OUT/ab.tar.xz *.log */bench-ours.json bench-torch.json bench.md ab.md 2>/dev/null
cp $OUT/ab.md $OUT/bench-B1.log $REAL_OUT/ 2>/dev/null
cat $OUT/ab.md
grep -E 'cuDNN' $OUT/bench-torch.log | head -20
echo "all done at $((SECONDS - t0)) s"

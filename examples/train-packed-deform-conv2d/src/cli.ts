// SPDX-License-Identifier: MIT
// The demo's command line (node:util parseArgs, strict): unknown flags and bad values stop it with the
// usage text and exit status 2, before anything is trained.
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run demo -- [options]
   or: pnpm --filter @tvdcn/example-train-packed-deform-conv2d start [options]

A modulated PackedDeformConv2d learns to undo a known warp (rotation + shift) of 16 synthetic images,
then draws what it learned into one picture (out/demo.png).

options:
  --steps N              training steps (default 400; 250 with --quick)
  --device D             cpu, cuda or cuda:N (default cpu)
  --samples N            images drawn in the picture, 1-16 (default 4)
  --out DIR              where the picture goes (default examples/train-packed-deform-conv2d/out)
  --losses FILE          also write the per-step losses as JSON
  --fp32-matmul M        float32, tf32x3 or tf32: how float32 products run on CUDA (default tf32x3)
  --quick                fewer steps (CI)
  --tidy                 wrap each training step in tidy() (for comparison: the default loop frees its
                         memory without it, as in PyTorch; docs/perf/memory.md)
  --check                exit 1 unless the loss fell 10x, beats the warped input, and the sampling
                         positions are within 0.75 px of the true inverse warp
  -h, --help             this text`;

/** The parsed options. */
export interface DemoOptions {
  help: boolean;
  steps: number;
  device: string;
  samples: number;
  out: string | null;
  losses: string | null;
  fp32Matmul: 'float32' | 'tf32x3' | 'tf32' | null;
  quick: boolean;
  check: boolean;
  tidy: boolean;
}

/** A usage error: the message, to be printed with {@link USAGE}. */
export class UsageError extends Error {}

function positiveInt(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${name}: expected an integer from 1 to ${max}, but got '${value}'`);
  }
  return n;
}

/** Parses `argv` (without node and the script; a leading `--` is ignored). */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        steps: { type: 'string' },
        device: { type: 'string', default: 'cpu' },
        samples: { type: 'string', default: '4' },
        out: { type: 'string' },
        losses: { type: 'string' },
        'fp32-matmul': { type: 'string' },
        quick: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        tidy: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const quick = values.quick === true;
  const fp32 = values['fp32-matmul'] as string | undefined;
  if (fp32 !== undefined && !['float32', 'tf32x3', 'tf32'].includes(fp32)) {
    throw new UsageError(`--fp32-matmul: expected float32, tf32x3 or tf32, but got '${fp32}'`);
  }
  const device = values.device as string;
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) {
    throw new UsageError(`--device: expected cpu, cuda or cuda:N, but got '${device}'`);
  }
  return {
    help: values.help === true,
    steps: positiveInt('steps', (values.steps as string | undefined) ?? (quick ? '250' : '400')),
    device,
    samples: positiveInt('samples', values.samples as string, 16),
    out: (values.out as string | undefined) ?? null,
    losses: (values.losses as string | undefined) ?? null,
    fp32Matmul: (fp32 as DemoOptions['fp32Matmul']) ?? null,
    quick,
    check: values.check === true,
    tidy: values.tidy === true,
  };
}

// Whether the loaded binary has the native deformable-convolution kernels: the suites that run layers
// forward skip (saying why) when it does not, as @tvdcn/ops' own suites do.
import { deformConv1d, maskSoftmax1d, zeros } from '@tvdcn/ops';

let available: boolean | undefined;

/** True when `deformConv1d` and `maskSoftmax1d` run (a native binary with their kernels is loaded). */
export function nativeOpsAvailable(): boolean {
  if (available === undefined) {
    try {
      deformConv1d(zeros([1, 1, 1]), zeros([1, 1, 1])).dispose();
      maskSoftmax1d(zeros([1, 1, 1]), 1).dispose();
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** The reason printed by the placeholder test of a skipped suite. */
export const SKIP_REASON = 'skipped: the loaded binary has no deformable-convolution kernels (build native/ first)';

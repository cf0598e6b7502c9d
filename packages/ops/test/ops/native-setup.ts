// SPDX-License-Identifier: MIT
// Points the loader at the locally built CPU binary when no binary package is installed, and tells the
// suites whether the native deformable-convolution kernels are available (they skip otherwise).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { getBinding } from '../../src/native/load-binding.js';

const localBuild = join(__dirname, '..', '..', '..', '..', 'native', 'build', 'cpu', 'Release', 'tvdcn_cpu.node');
if (!process.env.TVDCN_NATIVE_PATH && existsSync(localBuild)) {
  let packaged = false;
  try {
    require.resolve('@tvdcn/linux-x64-gnu/tvdcn.node');
    packaged = true;
  } catch {
    packaged = false;
  }
  if (!packaged) process.env.TVDCN_NATIVE_PATH = localBuild;
}

/** True when the loaded binary has the deformable convolution and mask softmax kernels. */
export function nativeOpsAvailable(): boolean {
  try {
    const b = getBinding();
    return typeof b.deformConvForward === 'function' && typeof b.maskSoftmaxForward === 'function';
  } catch {
    return false;
  }
}

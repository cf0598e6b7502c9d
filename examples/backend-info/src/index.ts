// SPDX-License-Identifier: MIT
// Which native binary did tvdcn load, and why? Plus the shape arithmetic of a deformable convolution.
import { backendInfo, cudaArchList, cudaVersion, hasOps, withCuda } from '@tvdcn/ops';
import { checkDeformConvArgs, checkDeformConvTransposeArgs, formatShape } from '@tvdcn/shape';

const info = backendInfo();
console.log('tvdcn native backend');
console.log(`  hasOps()       ${hasOps()}`);
console.log(
  `  withCuda()     ${withCuda()}   cudaVersion() ${cudaVersion()}   cudaArchList() [${cudaArchList().join(', ')}]`,
);
console.log(`  loaded         ${info.candidate ?? '(none)'}${info.path ? `  ${info.path}` : ''}`);
console.log(
  `  CUDA devices   ${info.cudaDeviceCount}${info.cudaUnavailableReason ? `  (${info.cudaUnavailableReason})` : ''}`,
);
for (const a of info.attempts) console.log(`  - ${a.candidate}: ${a.status}: ${a.reason}`);
if (info.error) console.log(info.error);

// The README example of tvdcn: a 3x3 deformable conv on a 10x10 image.
const p = checkDeformConvArgs('deformConv2d', 2, {
  input: [4, 3, 10, 10],
  weight: [5, 3, 3, 3],
  offset: [4, 18, 8, 8],
  mask: [4, 9, 8, 8],
  bias: [5],
});
console.log('\ndeformConv2d  input [4, 3, 10, 10]  weight [5, 3, 3, 3]');
console.log(
  `  output ${formatShape(p.outputShape)}, offsetGroups ${p.offsetGroups}, maskGroups ${p.maskGroups}, K ${p.kernelPoints}`,
);
const t = checkDeformConvTransposeArgs('deformConvTranspose2d', 2, {
  input: [4, 3, 8, 8],
  weight: [3, 5, 3, 3],
  offset: [4, 18, 8, 8],
  mask: [4, 9, 8, 8],
});
console.log('deformConvTranspose2d  input [4, 3, 8, 8]  weight [3, 5, 3, 3]');
console.log(`  output ${formatShape(t.outputShape)}`);
try {
  checkDeformConvArgs('deformConv2d', 2, { input: [2, 4, 10, 10], weight: [8, 4, 3, 3], offset: [2, 20, 8, 8] });
} catch (e) {
  console.log(
    `\nA wrong offset is caught before any native code runs:\n  ${(e as Error).name}: ${(e as Error).message}`,
  );
}

// SPDX-License-Identifier: MIT
// tvdcn's README usage, in TypeScript: the runtime helpers, the functional op, a DeformConv2d layer fed
// with offset and mask, a packed layer with the DCNv3 softmax mask, and the model-as-data round trip that
// replaces TorchScript here.
import {
  cudaVersion,
  DeformConv2d,
  deformConv2d,
  deformConvTranspose2d,
  hasOps,
  moduleFromJSON,
  PackedDeformConv1d,
  rand,
  withCuda,
} from 'tvdcn';

// import tvdcn; tvdcn.has_ops(); tvdcn.with_cuda()
console.log('Library loaded successfully:', hasOps());
console.log('Compiled with Cuda:', withCuda(), withCuda() ? `(CUDA ${cudaVersion()})` : '');

// tvdcn.ops.deform_conv2d(input, weight, offset, mask, bias, stride=(1, 1), padding=(0, 0), ...)
{
  const input = rand([4, 3, 10, 10]);
  const [kh, kw] = [3, 3];
  const weight = rand([5, 3, kh, kw]);
  const offset = rand([4, 2 * kh * kw, 8, 8]);
  const mask = rand([4, kh * kw, 8, 8]);
  const bias = rand([5]);
  const output = deformConv2d(input, weight, {
    offset,
    mask,
    bias,
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    groups: 1,
  });
  console.log('deformConv2d:', output.shape);

  // The transposed op: weight is [inChannels, outChannels / groups, kh, kw]; offset lives on the input grid.
  const up = deformConvTranspose2d(rand([4, 3, 8, 8]), rand([3, 5, kh, kw]), {
    offset: rand([4, 2 * kh * kw, 8, 8]),
    mask: rand([4, kh * kw, 8, 8]),
  });
  console.log('deformConvTranspose2d:', up.shape);
}

// conv = DeformConv2d(3, 16, kernel_size=(3, 3)); output = conv(input, offset, mask)
{
  const input = rand([2, 3, 64, 64]);
  const offset = rand([2, 2 * 3 * 3, 62, 62]);
  // with mask null this is the original deformable convolution without modulation (v1)
  const mask = rand([2, 1 * 3 * 3, 62, 62]);
  const conv = new DeformConv2d(3, 16, [3, 3]);
  const output = conv.forward(input, offset, mask);
  console.log('DeformConv2d:', output.shape);
}

// PackedDeformConv1d(3, 16, kernel_size=5, modulated=True, mask_activation='softmax'); torch.jit.script(conv)
{
  const input = rand([2, 3, 128]);
  const conv = new PackedDeformConv1d(3, 16, 5, { modulated: true, maskActivation: 'softmax' });
  // The counterpart of scripting: the model as data (toJSON) plus its weights (stateDict).
  const rebuilt = moduleFromJSON(JSON.parse(JSON.stringify(conv.toJSON())));
  rebuilt.loadStateDict(conv.stateDict());
  console.log(rebuilt.toString());
  const output = rebuilt.forward(input);
  console.log('PackedDeformConv1d:', output.shape);
  output.sum().backward();
  if (input.grad !== null) throw new Error('input does not require grad, so it has no grad');
  const grads = rebuilt.parameters().filter((p) => p.grad !== null).length;
  console.log(`gradients reached ${grads} of ${rebuilt.parameters().length} parameters`);
}

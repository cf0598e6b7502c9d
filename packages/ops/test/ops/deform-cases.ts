// SPDX-License-Identifier: MIT
// Shapes of deformable-convolution test cases, and their names spelled out as recipes (style.md §9.10).

/** Options of {@link makeCase}. */
export interface CaseOptions {
  batch?: number;
  groups?: number;
  og?: number;
  mg?: number;
  inSize?: number[];
  k?: number[];
  /** stride, padding, dilation all 1/0/1 instead of the varied defaults. */
  plain?: boolean;
}

/**
 * A case for `dim`: 4 input and 4 output channels, kernel (2, 3, 2), stride (1, 2, 1), padding (0, 1, 1),
 * dilation (1, 2, 1) (cut to `dim`), offset/mask on the output grid (regular) or input grid (transposed).
 */
export function makeCase(dim: 1 | 2 | 3, transposed: boolean, opts: CaseOptions = {}) {
  const { batch = 2, groups = 2, og = 2, mg = 1 } = opts;
  const k = opts.k ?? [2, 3, 2].slice(0, dim);
  const stride = opts.plain ? new Array<number>(dim).fill(1) : [1, 2, 1].slice(0, dim);
  const padding = opts.plain ? new Array<number>(dim).fill(0) : [0, 1, 1].slice(0, dim);
  const dilation = opts.plain ? new Array<number>(dim).fill(1) : [1, 2, 1].slice(0, dim);
  const inSize = opts.inSize ?? [5, 6, 4].slice(0, dim);
  const K = k.reduce((a, b) => a * b, 1);
  const cin = 4;
  const cout = 4;
  const outSize = inSize.map((s, i) =>
    transposed
      ? (s - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + 1
      : Math.floor((s + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1) / stride[i]) + 1,
  );
  const grid = transposed ? inSize : outSize;
  const shapes = {
    input: [batch, cin, ...inSize],
    weight: transposed ? [cin, cout / groups, ...k] : [cout, cin / groups, ...k],
    offset: [batch, og * dim * K, ...grid],
    mask: [batch, mg * K, ...grid],
    bias: [cout],
    output: [batch, cout, ...outSize],
    options: { stride, padding, dilation, groups },
  };
  const name =
    `dim=${dim}${transposed ? ' transposed' : ''} x=[${shapes.input}] w=[${shapes.weight}] ` +
    `s=[${stride}] p=[${padding}] d=[${dilation}] g=${groups} og=${og} mg=${mg}`;
  return { ...shapes, name };
}

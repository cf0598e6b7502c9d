import { describe, expect, it } from 'vitest';
import { expectDcnError } from '../test/expect-error.js';
import { convOutputSize, convTransposeOutputSize, outputPaddingFor } from './conv-output-size.js';
import { InvalidArgumentError } from './errors.js';

const CODE = 'ERR_DCN_INVALID_ARGUMENT';

describe('convOutputSize', () => {
  it.each<[number, number, number, number, number, number]>([
    // in, k, s, p, d, out
    [10, 3, 1, 0, 1, 8],
    [5, 2, 1, 0, 1, 4],
    [6, 3, 2, 1, 2, 2],
    [8, 3, 2, 1, 1, 4],
    [224, 7, 2, 3, 1, 112],
    [10, 3, 1, 0, 2, 6],
    [9, 3, 2, 1, 1, 5],
    [1, 1, 1, 0, 1, 1],
    // floor division like PyTorch: (3 - 3 - 1) / 2 = -0.5 → -1, + 1 = 0 (tvdcn's truncation would give 1)
    [3, 4, 2, 0, 1, 0],
    [2, 3, 1, 0, 1, 0],
    [1, 3, 1, 0, 1, -1],
  ])('in=%i k=%i s=%i p=%i d=%i → %i', (inSize, k, s, p, d, out) => {
    expect(convOutputSize(inSize, k, s, p, d)).toBe(out);
    expect(convOutputSize([inSize], [k], [s], [p], [d])).toEqual([out]);
  });

  it('defaults stride 1, padding 0, dilation 1', () => {
    expect(convOutputSize(10, 3)).toBe(8);
    expect(convOutputSize([10, 12], [3, 5])).toEqual([8, 8]);
  });

  it('computes the tvdcn test_grad dim=2 config: in (5, 6), k (2, 3), s (1, 2), p (0, 1), d (1, 2) → (4, 2)', () => {
    expect(convOutputSize([5, 6], [2, 3], [1, 2], [0, 1], [1, 2])).toEqual([4, 2]);
  });

  it('broadcasts numbers and one-element arrays against an array inSize', () => {
    expect(convOutputSize([10, 10, 10], 3, [1], 0, 1)).toEqual([8, 8, 8]);
  });

  it('rejects an array hyper-parameter with a number inSize', () => {
    const e = expectDcnError(
      () => convOutputSize(10 as never, [3, 3] as never),
      InvalidArgumentError,
      CODE,
      /^convOutputSize\(\): expected kernel to be a number when inSize is a number, but got \[3, 3\] \(array\)$/,
    );
    expect(e.argument).toBe('kernel');
  });

  it('rejects arrays of different lengths', () => {
    expectDcnError(
      () => convOutputSize([10, 10], [3, 3, 3]),
      InvalidArgumentError,
      CODE,
      /^convOutputSize\(\): expected kernel to be a number or an array of 1 or 2 numbers, but got \[3, 3, 3\] \(array\)$/,
    );
    expectDcnError(() => convOutputSize([10, 10], 3, [1, 1, 1]), InvalidArgumentError, CODE, /expected stride/);
  });

  it('rejects an inSize that is neither a number nor an array', () => {
    expectDcnError(
      () => convOutputSize('10' as never, 3),
      InvalidArgumentError,
      CODE,
      /expected inSize to be a number or an array of numbers, but got '10' \(string\)/,
    );
  });
});

describe('convTransposeOutputSize', () => {
  it.each<[number, number, number, number, number, number, number]>([
    // in, k, s, p, outputPadding, d, out
    [2, 3, 2, 0, 0, 1, 5], // reference §11.G
    [2, 3, 2, 0, 1, 1, 6], // reference §11.G with output_padding 1
    [8, 3, 1, 0, 0, 1, 10],
    [4, 2, 1, 0, 0, 1, 5],
    [2, 3, 2, 1, 1, 2, 6],
    [5, 3, 2, 1, 0, 1, 9],
    [1, 1, 1, 1, 0, 1, -1],
  ])('in=%i k=%i s=%i p=%i op=%i d=%i → %i', (inSize, k, s, p, op, d, out) => {
    expect(convTransposeOutputSize(inSize, k, s, p, op, d)).toBe(out);
    expect(convTransposeOutputSize([inSize], k, s, p, op, d)).toEqual([out]);
  });

  it('computes the tvdcn test_grad transposed dim=2 config → (5, 6)', () => {
    expect(convTransposeOutputSize([4, 2], [2, 3], [1, 2], [0, 1], [0, 1], [1, 2])).toEqual([5, 6]);
  });

  it('defaults stride 1, padding 0, outputPadding 0, dilation 1', () => {
    expect(convTransposeOutputSize(8, 3)).toBe(10);
  });

  it('is the inverse of convOutputSize up to outputPadding', () => {
    for (let inSize = 1; inSize < 12; inSize++) {
      for (const [k, s, p, d] of [
        [3, 2, 1, 1],
        [2, 3, 0, 1],
        [3, 1, 2, 2],
      ] as const) {
        const out = convTransposeOutputSize(inSize, k, s, p, 0, d);
        if (out > 0) expect(convOutputSize(out, k, s, p, d)).toBe(inSize);
      }
    }
  });

  it('rejects arrays of different lengths', () => {
    expectDcnError(
      () => convTransposeOutputSize([4, 2], 3, 1, 0, [0, 0, 0]),
      InvalidArgumentError,
      CODE,
      /^convTransposeOutputSize\(\): expected outputPadding to be a number or an array of 1 or 2 numbers/,
    );
  });
});

describe('outputPaddingFor', () => {
  const OP = 'deformConvTranspose2d';

  it.each<[number[], number[]]>([
    [
      [9, 10],
      [0, 1],
    ],
    [
      [3, 9, 10],
      [0, 1],
    ],
    [
      [4, 3, 9, 10],
      [0, 1],
    ],
    [
      [9, 9],
      [0, 0],
    ],
    [
      [10, 10],
      [1, 1],
    ],
  ])('outputSize %j → outputPadding %j (in [5, 5], k 3, s 2, p 1)', (outputSize, expected) => {
    expect(outputPaddingFor(OP, outputSize, [5, 5], 3, 2, 1)).toEqual(expected);
  });

  it('reproduces the test_grad transposed config: output [1, 2, 5, 6] needs outputPadding (0, 1)', () => {
    expect(outputPaddingFor(OP, [1, 2, 5, 6], [4, 2], [2, 3], [1, 2], [0, 1], [1, 2])).toEqual([0, 1]);
  });

  it('also accepts the form without an op name (api.md)', () => {
    expect(outputPaddingFor([9, 10], [5, 5], 3, 2, 1)).toEqual([0, 1]);
    expectDcnError(
      () => outputPaddingFor([20, 20], [5, 5], 3, 2, 1),
      InvalidArgumentError,
      CODE,
      /^requested an output size of \[20, 20\]/,
    );
  });

  it('works in 1D and 3D', () => {
    expect(outputPaddingFor('deformConvTranspose1d', [6], [2], 3, 2)).toEqual([1]);
    expect(outputPaddingFor('deformConvTranspose3d', [2, 2, 5, 6, 5], [3, 3, 3], 3, 2, 1)).toEqual([0, 1, 0]);
  });

  it('throws the PyTorch error for a size above the range', () => {
    const e = expectDcnError(
      () => outputPaddingFor(OP, [11, 12], [5, 5], 3, 2, 1),
      InvalidArgumentError,
      CODE,
      /^deformConvTranspose2d\(\): requested an output size of \[11, 12\], but valid sizes range from \[9, 9\] to \[10, 10\] \(for an input of \[5, 5\]\)$/,
    );
    expect(e.argument).toBe('outputSize');
  });

  it('throws the PyTorch error for a size below the range', () => {
    expectDcnError(
      () => outputPaddingFor(OP, [2, 3, 8, 9], [5, 5], 3, 2, 1),
      InvalidArgumentError,
      CODE,
      /requested an output size of \[8, 9\], but valid sizes range from \[9, 9\] to \[10, 10\]/,
    );
  });

  it('uses stride - 1 as the range width, like PyTorch (dilation does not widen it)', () => {
    expect(outputPaddingFor(OP, [7, 7], [5, 5], 2, 1, 0, 2)).toEqual([0, 0]);
    expectDcnError(
      () => outputPaddingFor(OP, [8, 7], [5, 5], 2, 1, 0, 2),
      InvalidArgumentError,
      CODE,
      /valid sizes range from \[7, 7\] to \[7, 7\]/,
    );
  });

  it.each<[unknown]>([[[9]], [[1, 2, 3, 9, 10]], [[9.5, 10]], [[-1, 10]], ['9, 10'], [null]])(
    'rejects outputSize %o',
    (outputSize) => {
      const e = expectDcnError(
        () => outputPaddingFor(OP, outputSize as number[], [5, 5], 3, 2, 1),
        InvalidArgumentError,
        CODE,
        /^deformConvTranspose2d\(\): expected outputSize to be an array of 2 \(spatial\), 3 \(unbatched\) or 4 \(batched\) non-negative integers, but got /,
      );
      expect(e.argument).toBe('outputSize');
    },
  );

  it.each<[string, unknown[], RegExp]>([
    ['kernel', [[5, 5], 0, 2, 1, 1], /expected kernelSize to be a positive integer/],
    ['stride', [[5, 5], 3, -2, 1, 1], /expected stride to be a positive integer/],
    ['padding', [[5, 5], 3, 2, 1.5, 1], /expected padding to be a non-negative integer/],
    ['dilation', [[5, 5], 3, 2, 1, Number.NaN], /expected dilation to be a positive integer/],
    ['inSize', [[5, -5], 3, 2, 1, 1], /expected inSize to be an array of non-negative integers/],
  ])('rejects a bad %s', (_name, rest, pattern) => {
    const call = outputPaddingFor as unknown as (...args: unknown[]) => number[];
    expectDcnError(() => call(OP, [9, 10], ...rest), InvalidArgumentError, CODE, pattern);
  });
});

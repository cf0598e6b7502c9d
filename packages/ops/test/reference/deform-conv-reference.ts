// SPDX-License-Identifier: MIT
// Slow, loop-based float64 reference of the deformable convolution (regular and transposed, any number
// of spatial dims), written straight from tvdcn-reference §3–§5 for use as the test oracle. Plain
// Float64Array + shape in, plain Float64Array + shape out; no native code, no Tensor class.
// Not for speed: every sample is interpolated from scratch.

/** A dense row-major float64 tensor: `data.length === product(shape)`. */
export interface RefTensor {
  data: Float64Array;
  shape: number[];
}

/** Hyper-parameters of a reference call, each an array of one entry per spatial dim. */
export interface RefConvOptions {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
  /** Transposed op only: extra output size at the end of each spatial dim (default 0). */
  outputPadding?: number[];
}

/** Product of the entries (1 for an empty list). */
export function prod(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** Row-major coordinates of flat index `flat` in a grid of `size`. */
export function unflatten(flat: number, size: readonly number[]): number[] {
  const out = new Array<number>(size.length);
  for (let a = size.length - 1; a >= 0; a--) {
    out[a] = flat % size[a];
    flat = Math.floor(flat / size[a]);
  }
  return out;
}

/** Flat row-major index of `coords` in a grid of `size`. */
export function flatten(coords: readonly number[], size: readonly number[]): number {
  let idx = 0;
  for (let a = 0; a < size.length; a++) idx = idx * size[a] + coords[a];
  return idx;
}

/**
 * The 2^D integer corners around a continuous position, with their linear weights (tvdcn-reference §4.1),
 * WITHOUT any early-out; corners outside the grid are included and flagged `inside: false`.
 */
export function corners(
  pos: readonly number[],
  size: readonly number[],
): { coords: number[]; weight: number; inside: boolean }[] {
  const d = pos.length;
  const lo = pos.map(Math.floor);
  const t = pos.map((p, a) => p - lo[a]);
  const out: { coords: number[]; weight: number; inside: boolean }[] = [];
  for (let i = 0; i < 1 << d; i++) {
    const coords: number[] = [];
    let weight = 1;
    let inside = true;
    for (let a = 0; a < d; a++) {
      const up = (i >> a) & 1;
      const j = lo[a] + up;
      coords.push(j);
      weight *= up ? t[a] : 1 - t[a];
      if (j < 0 || j >= size[a]) inside = false;
    }
    out.push({ coords, weight, inside });
  }
  return out;
}

/**
 * Interp (tvdcn-reference §4.1): the value of the plane `plane` (row-major, spatial `size`) at the
 * continuous position `pos`: exactly 0 if on any axis `p <= -1` or `p >= S`, else the multilinear
 * combination of the corners inside the grid (outside corners count as 0, weights not renormalized).
 */
export function interpolate(
  plane: Float64Array,
  planeOffset: number,
  size: readonly number[],
  pos: readonly number[],
): number {
  for (let a = 0; a < pos.length; a++) if (pos[a] <= -1 || pos[a] >= size[a]) return 0;
  let v = 0;
  for (const c of corners(pos, size)) if (c.inside) v += c.weight * plane[planeOffset + flatten(c.coords, size)];
  return v;
}

function kernelShapeOf(weight: RefTensor): number[] {
  return weight.shape.slice(2);
}

/**
 * Reference of `deform_convNd` (tvdcn-reference §3.1–§3.4), for any number of spatial dims:
 * `out[b, o, q] = bias[o] + sum_{c in group(o)} sum_{kpt} W[o, c_local, kpt] * mask[b, mg(c)*K + kpt, q]
 *                * Interp(input[b, c], q*stride - padding + k*dilation + offset[b, (og(c)*K + kpt)*D + a, q])`.
 * Offset channels are (group, kernel point, axis) with the axis fastest, axes in spatial order (y before x).
 * `offset === null` samples the integer grid with zero padding (ordinary convolution), `mask === null`
 * means 1. Offset and mask groups are read off the shapes: `OG = offset.shape[1] / (D*K)`,
 * `MG = mask.shape[1] / K`; they partition the input channels.
 *
 * @param input - `[B, C_in, ...inSize]`
 * @param weight - `[C_out, C_in / groups, ...kernelSize]`
 * @param offset - `[B, OG * D * K, ...outSize]` or null
 * @param mask - `[B, MG * K, ...outSize]` or null
 * @param bias - `[C_out]` or null
 * @returns output `[B, C_out, ...outSize]`
 */
export function deformConvReference(
  input: RefTensor,
  weight: RefTensor,
  offset: RefTensor | null,
  mask: RefTensor | null,
  bias: RefTensor | null,
  options: RefConvOptions,
): RefTensor {
  const [B, cin] = input.shape;
  const inSize = input.shape.slice(2);
  const d = inSize.length;
  const cout = weight.shape[0];
  const k = kernelShapeOf(weight);
  const K = prod(k);
  const G = options.groups;
  const cinG = cin / G;
  const coutG = cout / G;
  const outSize = inSize.map(
    (n, a) => Math.floor((n + 2 * options.padding[a] - options.dilation[a] * (k[a] - 1) - 1) / options.stride[a]) + 1,
  );
  const S = prod(outSize);
  const sIn = prod(inSize);
  const OG = offset ? offset.shape[1] / (d * K) : 1;
  const MG = mask ? mask.shape[1] / K : 1;
  const out = new Float64Array(B * cout * S);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / coutG);
      for (let q = 0; q < S; q++) {
        const oc = unflatten(q, outSize);
        let acc = bias ? bias.data[o] : 0;
        for (let cl = 0; cl < cinG; cl++) {
          const c = g * cinG + cl;
          const og = Math.floor(c / (cin / OG));
          const mg = Math.floor(c / (cin / MG));
          for (let kpt = 0; kpt < K; kpt++) {
            const kc = unflatten(kpt, k);
            const pos = oc.map((y, a) => y * options.stride[a] - options.padding[a] + kc[a] * options.dilation[a]);
            if (offset)
              for (let a = 0; a < d; a++) pos[a] += offset.data[(b * OG * K * d + (og * K + kpt) * d + a) * S + q];
            const m = mask ? mask.data[(b * MG * K + mg * K + kpt) * S + q] : 1;
            const v = interpolate(input.data, (b * cin + c) * sIn, inSize, pos);
            acc += weight.data[(o * cinG + cl) * K + kpt] * m * v;
          }
        }
        out[(b * cout + o) * S + q] = acc;
      }
    }
  }
  return { data: out, shape: [B, cout, ...outSize] };
}

/**
 * Reference of `deform_conv_transposeNd` by its direct scatter definition (tvdcn-reference §5): for
 * every input position q, kernel point kpt and output channel o, the value
 * `v = sum_{c in group(o)} W[c, o_local, kpt] * input[b, c, q] * mask[b, mg(o)*K + kpt, q]` is split
 * onto the 2^D integer neighbours of `p = q*stride - padding + k*dilation + offset[b, (og(o)*K + kpt)*D + a, q]`
 * in the output grid with multilinear weights; neighbours outside the output are dropped. Offset and
 * mask groups partition the OUTPUT channels here. Then the bias is added.
 *
 * @param input - `[B, C_in, ...inSize]`
 * @param weight - `[C_in, C_out / groups, ...kernelSize]`
 * @param offset - `[B, OG * D * K, ...inSize]` or null (integer positions)
 * @param mask - `[B, MG * K, ...inSize]` or null
 * @param bias - `[C_out]` or null
 * @returns output `[B, C_out, ...outSize]`, `outSize = (in-1)*stride - 2*padding + dilation*(k-1) + 1 + outputPadding`
 */
export function deformConvTransposeReference(
  input: RefTensor,
  weight: RefTensor,
  offset: RefTensor | null,
  mask: RefTensor | null,
  bias: RefTensor | null,
  options: RefConvOptions,
): RefTensor {
  const [B, cin] = input.shape;
  const inSize = input.shape.slice(2);
  const d = inSize.length;
  const k = kernelShapeOf(weight);
  const K = prod(k);
  const G = options.groups;
  const coutG = weight.shape[1];
  const cout = coutG * G;
  const cinG = cin / G;
  const op = options.outputPadding ?? inSize.map(() => 0);
  const outSize = inSize.map(
    (n, a) => (n - 1) * options.stride[a] - 2 * options.padding[a] + options.dilation[a] * (k[a] - 1) + 1 + op[a],
  );
  const S = prod(outSize);
  const sIn = prod(inSize);
  const OG = offset ? offset.shape[1] / (d * K) : 1;
  const MG = mask ? mask.shape[1] / K : 1;
  const out = new Float64Array(B * cout * S);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < cout; o++) {
      const g = Math.floor(o / coutG);
      const ol = o - g * coutG;
      const og = Math.floor(o / (cout / OG));
      const mg = Math.floor(o / (cout / MG));
      for (let q = 0; q < sIn; q++) {
        const ic = unflatten(q, inSize);
        for (let kpt = 0; kpt < K; kpt++) {
          let v = 0;
          for (let cl = 0; cl < cinG; cl++) {
            const c = g * cinG + cl;
            v += weight.data[(c * coutG + ol) * K + kpt] * input.data[(b * cin + c) * sIn + q];
          }
          v *= mask ? mask.data[(b * MG * K + mg * K + kpt) * sIn + q] : 1;
          const kc = unflatten(kpt, k);
          const pos = ic.map((y, a) => y * options.stride[a] - options.padding[a] + kc[a] * options.dilation[a]);
          if (offset)
            for (let a = 0; a < d; a++) pos[a] += offset.data[(b * OG * K * d + (og * K + kpt) * d + a) * sIn + q];
          for (const c of corners(pos, outSize)) {
            if (c.inside) out[(b * cout + o) * S + flatten(c.coords, outSize)] += c.weight * v;
          }
        }
      }
    }
  }
  if (bias)
    for (let b = 0; b < B; b++)
      for (let o = 0; o < cout; o++) for (let q = 0; q < S; q++) out[(b * cout + o) * S + q] += bias.data[o];
  return { data: out, shape: [B, cout, ...outSize] };
}

/**
 * Softmax over the K kernel points of each mask group (tvdcn-reference §6): mask `[B, MG*K, ...spatial]`
 * viewed as `[B, MG, K, S]`, softmax along K.
 */
export function maskSoftmaxReference(mask: RefTensor, maskGroups: number, kernelPoints: number): RefTensor {
  const B = mask.shape[0];
  const S = prod(mask.shape.slice(2));
  const out = new Float64Array(mask.data.length);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < maskGroups; g++) {
      for (let s = 0; s < S; s++) {
        const idx = (k: number) => ((b * maskGroups + g) * kernelPoints + k) * S + s;
        let mx = -Infinity;
        for (let k = 0; k < kernelPoints; k++) mx = Math.max(mx, mask.data[idx(k)]);
        let sum = 0;
        for (let k = 0; k < kernelPoints; k++) sum += Math.exp(mask.data[idx(k)] - mx);
        for (let k = 0; k < kernelPoints; k++) out[idx(k)] = Math.exp(mask.data[idx(k)] - mx) / sum;
      }
    }
  }
  return { data: out, shape: [...mask.shape] };
}

// SPDX-License-Identifier: MIT
// gradcheck(): compares the analytic gradients of a function (backward) with central finite
// differences in float64, like torch.autograd.gradcheck. Exported for users who write their own ops
// from ours. Not for float32: finite differences need float64 to be meaningful.

import { DcnError, formatExpected, formatShape, formatValue, InvalidArgumentError } from '@tvdcn/shape';
import { fillNormal } from '../tensor/random.js';
import { runInScope } from '../tensor/memory.js';
import { fromStorage, isTensor, type Tensor } from '../tensor/tensor.js';
import { getKernels } from '../backends/registry.js';
import { grad } from './tape.js';

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance, times |numerical| (default 1e-3). */
  rtol?: number;
  /** Throw a DcnError describing the first mismatch (default true); false returns false instead. */
  raiseException?: boolean;
  /**
   * Compare one random projection `v^T J u` per input instead of the whole Jacobian: one backward and
   * two forwards per input instead of one backward per output element and two forwards per input
   * element (default false).
   */
  fastMode?: boolean;
}

/** The function {@link gradcheck} differentiates: tensors in, one tensor or a list of tensors out. */
export type GradcheckFn = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

function asList(out: Tensor | readonly Tensor[]): Tensor[] {
  return isTensor(out) ? [out] : [...out];
}

/**
 * Runs `fn` and returns all outputs' values, concatenated, in float64. Grad mode stays on: `fn` may
 * itself differentiate (a gradient of a gradient); whatever it records is disposed with the scope.
 */
function evaluate(fn: GradcheckFn, inputs: readonly Tensor[]): Float64Array {
  return runInScope(() => {
    const outs = asList(fn(...inputs));
    const total = outs.reduce((n, t) => n + t.numel, 0);
    const values = new Float64Array(total);
    let k = 0;
    for (const t of outs) {
      values.set(t.toTypedArray(), k);
      k += t.numel;
    }
    return values;
  });
}

/**
 * Checks the gradients of `fn` at `inputs` against central finite differences
 * `(f(x + eps) - f(x - eps)) / (2 eps)`, for every input that requires grad: each element of the
 * analytic Jacobian must satisfy `|analytic - numerical| <= atol + rtol * |numerical|`.
 *
 * Inputs are perturbed in place (and restored exactly), so they must be CPU tensors; the inputs that
 * require grad must be float64. Pick points where `fn` is differentiable (for deformable convolution:
 * offsets away from integer sampling positions).
 *
 * @param fn - a function of the inputs returning a tensor or a list of tensors
 * @param inputs - the arguments of `fn`
 * @param options - `eps` (1e-6), `atol` (1e-5), `rtol` (1e-3), `raiseException` (true), `fastMode` (false)
 * @returns true when the gradients match (false when not and `raiseException` is false)
 * @throws {@link DcnError} describing the first mismatch (input, elements, both values)
 * @throws {@link InvalidArgumentError} when no input requires grad, or one that does is not float64
 * @example
 * ```ts
 * const x = randn([3], { dtype: 'float64', requiresGrad: true });
 * gradcheck((t) => sum(sigmoid(t)), [x]); // true
 * ```
 */
export function gradcheck(fn: GradcheckFn, inputs: readonly Tensor[], options: GradcheckOptions = {}): boolean {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, raiseException = true, fastMode = false } = options;
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(formatExpected('gradcheck', 'fn to be a function', formatValue(fn)), 'fn');
  }
  if (!Array.isArray(inputs) || !inputs.every(isTensor)) {
    throw new InvalidArgumentError(
      formatExpected('gradcheck', 'inputs to be an array of Tensors', formatValue(inputs)),
      'inputs',
    );
  }
  const wrt = inputs.map((t, i) => [t, i] as const).filter(([t]) => t.requiresGrad);
  if (wrt.length === 0) {
    throw new InvalidArgumentError(
      formatExpected('gradcheck', 'at least one input that requires grad', 'none'),
      'inputs',
    );
  }
  for (const [t, i] of wrt) {
    if (t.dtype !== 'float64' || t.device !== 'cpu') {
      throw new InvalidArgumentError(
        formatExpected('gradcheck', `inputs[${i}] to be a float64 CPU tensor`, `${t.dtype} on ${t.device}`),
        `inputs[${i}]`,
      );
    }
  }
  const fail = (message: string): boolean => {
    if (raiseException) throw new DcnError(`gradcheck(): ${message}`);
    return false;
  };
  const close = (a: number, n: number): boolean => Math.abs(a - n) <= atol + rtol * Math.abs(n);

  if (fastMode) {
    return runInScope(() => {
      const outs = asList(fn(...inputs));
      const vs = outs.map((o) => {
        const v = new Float64Array(o.numel);
        fillNormal(v, 0, 1);
        return fromStorage(getKernels('cpu').fromArray('cpu', o.dtype, v, false), o.shape);
      });
      const grads = grad(
        outs,
        wrt.map(([t]) => t),
        vs,
        { allowUnused: true },
      );
      const vAll = new Float64Array(vs.reduce((n, v) => n + v.numel, 0));
      let k = 0;
      for (const v of vs) {
        vAll.set(v.toTypedArray(), k);
        k += v.numel;
      }
      for (let w = 0; w < wrt.length; w++) {
        const [t, i] = wrt[w];
        const u = new Float64Array(t.numel);
        fillNormal(u, 0, 1);
        const g = grads[w];
        let analytic = 0;
        if (g !== null) {
          const gv = g.toTypedArray();
          for (let j = 0; j < u.length; j++) analytic += gv[j] * u[j];
        }
        const x = t.cpuData();
        const orig = Float64Array.from(x);
        for (let j = 0; j < x.length; j++) x[j] = orig[j] + eps * u[j];
        const plus = evaluate(fn, inputs);
        for (let j = 0; j < x.length; j++) x[j] = orig[j] - eps * u[j];
        const minus = evaluate(fn, inputs);
        x.set(orig);
        let numerical = 0;
        for (let j = 0; j < vAll.length; j++) numerical += (vAll[j] * (plus[j] - minus[j])) / (2 * eps);
        if (!close(analytic, numerical)) {
          return fail(
            `expected v^T J u to match its finite difference within atol = ${atol} + rtol = ${rtol} * |numerical| ` +
              `for inputs[${i}] (shape ${formatShape(t.shape)}), but got numerical ${numerical} and analytic ${analytic}`,
          );
        }
      }
      return true;
    });
  }

  // Analytic Jacobian, one row per output element (one backward each).
  const analytic = runInScope(() => {
    const outs = asList(fn(...inputs));
    const total = outs.reduce((n, o) => n + o.numel, 0);
    const rows: Float64Array[][] = wrt.map(([t]) => Array.from({ length: total }, () => new Float64Array(t.numel)));
    let row = 0;
    for (let o = 0; o < outs.length; o++) {
      for (let e = 0; e < outs[o].numel; e++, row++) {
        if (!outs.some((t) => t.requiresGrad)) continue;
        runInScope(() => {
          const gos = outs.map((out, k) => {
            const v = new Float64Array(out.numel);
            if (k === o) v[e] = 1;
            return fromStorage(getKernels('cpu').fromArray('cpu', out.dtype, v, false), out.shape);
          });
          const live = outs.map((out, k) => [out, gos[k]] as const).filter(([out]) => out.requiresGrad);
          const gs = grad(
            live.map(([out]) => out),
            wrt.map(([t]) => t),
            live.map(([, g]) => g),
            {
              allowUnused: true,
              retainGraph: true,
            },
          );
          gs.forEach((g, w) => {
            if (g !== null) rows[w][row].set(g.toTypedArray());
          });
        });
      }
    }
    for (const out of outs) out.dispose();
    return rows;
  });

  // Numerical Jacobian, one column per input element (two forwards each), compared as it goes.
  for (let w = 0; w < wrt.length; w++) {
    const [t, i] = wrt[w];
    const x = t.cpuData();
    for (let j = 0; j < x.length; j++) {
      const orig = x[j];
      x[j] = orig + eps;
      const plus = evaluate(fn, inputs);
      x[j] = orig - eps;
      const minus = evaluate(fn, inputs);
      x[j] = orig;
      for (let r = 0; r < plus.length; r++) {
        const numerical = (plus[r] - minus[r]) / (2 * eps);
        const a = analytic[w][r][j];
        if (!close(a, numerical)) {
          return fail(
            `expected the analytic gradient to match the numerical one within atol = ${atol} + rtol = ${rtol} * |numerical|, ` +
              `but got for inputs[${i}] (shape ${formatShape(t.shape)}) element ${j} and output element ${r}: ` +
              `numerical ${numerical}, analytic ${a}`,
          );
        }
      }
    }
  }
  return true;
}

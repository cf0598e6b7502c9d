// SPDX-License-Identifier: MIT
// Installs every gradient in the registry, once. Called by the backward pass before its first use
// rather than at import: the package is marked side-effect free, so a registration that rode on an
// import could be dropped by bundlers. Adding an op: list its gradients here (style.md §9.8).

import { registerGradient } from '../autograd/gradient-registry.js';
import { conversionGradients } from './conversion.grad.js';
import { deformConvGradients } from './deform-conv.grad.js';
import { deformConvTransposeGradients } from './deform-conv-transpose.grad.js';
import { elementwiseGradients } from './elementwise.grad.js';
import { maskActivationGradients } from './mask-activations.grad.js';
import { reduceGradients } from './reduce.grad.js';
import { shapeOpGradients } from './shape-ops.grad.js';

let registered = false;

/** @internal Registers all gradients (idempotent). */
export function registerAllGradients(): void {
  if (registered) return;
  registered = true;
  for (const list of [
    elementwiseGradients,
    reduceGradients,
    shapeOpGradients,
    conversionGradients,
    deformConvGradients,
    deformConvTransposeGradients,
    maskActivationGradients,
  ]) {
    for (const config of list) registerGradient(config);
  }
}

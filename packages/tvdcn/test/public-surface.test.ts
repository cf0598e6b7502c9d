// The public surface of tvdcn: an explicit, chosen part of @tvdcn/ops (the same objects, not copies) plus
// this package's layers, optimizers and I/O; the testing and parsing helpers stay in @tvdcn/ops only.
import * as ops from '@tvdcn/ops';
import { describe, expect, it } from 'vitest';
import * as tvdcn from '../src/index.js';

describe('public surface', () => {
  it('re-exports the chosen names of @tvdcn/ops as the same objects', () => {
    const shared = Object.keys(tvdcn).filter((name) => name in ops);
    expect(shared.length).toBeGreaterThan(80);
    for (const name of shared) {
      expect((tvdcn as Record<string, unknown>)[name], name).toBe((ops as Record<string, unknown>)[name]);
    }
  });

  it('leaves the testing and parsing helpers in @tvdcn/ops', () => {
    for (const name of ['gradcheck', 'DTYPES', 'isDType']) {
      expect(ops, name).toHaveProperty(name);
      expect(tvdcn, name).not.toHaveProperty(name);
    }
  });

  it('exports the layers, the functional ops and the runtime queries a model author uses', () => {
    for (const name of [
      'Tensor',
      'tensor',
      'randn',
      'tidy',
      'noGrad',
      'deformConv2d',
      'mseLoss',
      'backendInfo',
      'cuda',
      'PackedDeformConv2d',
      'DeformConvTranspose3d',
      'Adam',
      'SGD',
      'saveSafetensors',
      'DcnError',
    ]) {
      expect(tvdcn, name).toHaveProperty(name);
    }
  });
});

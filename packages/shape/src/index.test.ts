import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as shape from './index.js';

const SRC = dirname(fileURLToPath(import.meta.url));

describe('index', () => {
  it('re-exports the public API', () => {
    const expected = [
      'DcnError',
      'InvalidArgumentError',
      'ShapeMismatchError',
      'DeviceMismatchError',
      'DTypeMismatchError',
      'DisposedTensorError',
      'NotImplementedError',
      'NativeLoadError',
      'OutOfMemoryError',
      'ERROR_CODES',
      'formatShape',
      'formatValue',
      'formatExpected',
      'formatOpPrefix',
      'ntuple',
      'single',
      'pair',
      'triple',
      'expectInteger',
      'expectPositiveInteger',
      'expectNonNegativeInteger',
      'expectPositiveNumber',
      'expectShape',
      'intTuple',
      'isInteger',
      'isPositiveInteger',
      'isNonNegativeInteger',
      'isPositiveNumber',
      'isShape',
      'convOutputSize',
      'convTransposeOutputSize',
      'outputPaddingFor',
      'resolvePadding',
      'PADDING_MODES',
      'checkPaddingMode',
      'isPaddingMode',
      'checkDeformConvArgs',
      'checkDeformConvTransposeArgs',
      'checkMaskSoftmaxArgs',
      'checkMaskSigmoidScale',
    ];
    for (const name of expected) expect(shape, name).toHaveProperty(name);
    expect(Object.keys(shape).sort()).toEqual([...expected].sort());
  });

  it('does not export the internal implementation', () => {
    expect(shape).not.toHaveProperty('checkDeformConvNdArgs');
  });

  it('has one name per function (the resolve* aliases are gone)', () => {
    expect(shape).not.toHaveProperty('resolveDeformConvParams');
    expect(shape).not.toHaveProperty('resolveDeformConvTransposeParams');
  });
});

describe('browser safety', () => {
  const sources = readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it.each(sources)('%s imports only relative modules and no Node globals', (file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    const specifiers = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]);
    for (const specifier of specifiers) expect(specifier, file).toMatch(/^\.\/[a-z-]+\.js$/);
    expect(text).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b|__dirname|import\.meta/);
  });

  it('has no `any` in the sources', () => {
    for (const file of sources) {
      expect(readFileSync(join(SRC, file), 'utf8'), file).not.toMatch(/:\s*any\b|<any>|as any\b/);
    }
  });
});

// SPDX-License-Identifier: MIT
// defineOp(): names a public op and runs its body in a scope that disposes the intermediate tensors it
// creates (unbatched reshapes, partial results), keeping only what it returns (tfjs's op()).

import { runInScope } from '../tensor/memory.js';

/**
 * @internal Wraps `impl` as the public op `name`: `impl` receives the name (the prefix of its error
 * messages, style.md §9.9) and the caller's arguments.
 */
export function defineOp<A extends unknown[], R>(name: string, impl: (op: string, ...args: A) => R): (...args: A) => R {
  const op = (...args: A): R => runInScope(() => impl(name, ...args));
  Object.defineProperty(op, 'name', { value: name });
  return op;
}

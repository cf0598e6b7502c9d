// SPDX-License-Identifier: MIT
// What run.ts and its worker processes (worker.ts) say to each other: one JSON object per line.
import type { PeerKind } from './peers.js';
import type { BenchShape } from './shapes.js';

/** The worker's command-line argument. */
export interface WorkerSpec {
  shape: BenchShape;
  peer: PeerKind;
  threads: number;
  warmups: number;
  /** Where to write the forward output (raw float32), or null. */
  outputFile: string | null;
}

/** Lines of the protocol start with this tag; anything else a library prints is passed through. */
export const TAG = '@@bench ';

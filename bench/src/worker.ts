// SPDX-License-Identifier: MIT
// One benchmark peer alone in its own process (run.ts starts one per peer, so that no two runtimes'
// thread pools share a process: ONNX Runtime's pool spins between calls). Protocol, one JSON object per
// line: the worker prints `{"ready", "warmMs"}` (after warm-up, and after writing its forward output to
// `outputFile` when asked), then answers each `{"reps": n}` on stdin with `{"times": [ms...], "cpus": [ms...]}`
// (wall time and the process's CPU time, all threads, of each call) and exits on `{"exit": true}` or end of input.
//   tsx src/worker.ts '{"shape": {...}, "peer": "ours-fwd", "threads": 2, "warmups": 3, "outputFile": null}'
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TAG, type WorkerSpec } from './protocol.js';

const send = (msg: unknown): void => {
  process.stdout.write(`${TAG}${JSON.stringify(msg)}\n`);
};

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as WorkerSpec;
  // Before @tvdcn/ops loads: its pool reads the thread count once.
  process.env.TVDCN_NUM_THREADS = String(spec.threads);
  const { makePeer } = await import('./peers.js');
  const peer = await makePeer(spec.shape, spec.peer, spec.threads);
  if (!peer) throw new Error(`bench worker: ${spec.shape.name} has no ${spec.peer} peer`);
  if (spec.outputFile) {
    const out = await peer.output();
    writeFileSync(spec.outputFile, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }
  let warmMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < spec.warmups; i++) {
    const t0 = performance.now();
    await peer.run();
    warmMs = Math.min(warmMs, performance.now() - t0); // the first calls allocate and fault pages in
  }
  send({ ready: true, warmMs });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const msg = JSON.parse(line) as { reps?: number; exit?: boolean };
    if (msg.exit) break;
    const times: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < (msg.reps ?? 1); i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await peer.run();
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1e3);
    }
    send({ times, cpus });
  }
  lines.close();
  await peer.dispose();
  process.exit(0);
}

main().catch((e: unknown) => {
  send({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  process.exit(1);
});

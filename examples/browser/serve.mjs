#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A static server for the browser example: serves the repository root (the built dist/ folders and
// @tvdcn/wasm32's files are reached through the page's import map) with the COOP/COEP headers that make
// the page cross-origin isolated, which gives it SharedArrayBuffer and so the threads build of
// @tvdcn/wasm32 (without them the page gets the one-thread build):
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
//   node examples/browser/serve.mjs [port]              then open http://localhost:<port>/examples/browser/
//   node examples/browser/serve.mjs [port] --no-isolation   the same without the two headers (one thread)
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
};

/**
 * Starts the server on `port` (0: any free port); resolves to its base URL and a close function. With
 * `isolated: false` it leaves out the COOP/COEP headers (the page is then not cross-origin isolated).
 */
export function startServer(port = 0, { isolated = true } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!path.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(path).isDirectory()) path = join(path, 'index.html');
      statSync(path);
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    const isolation = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
      : {};
    res.writeHead(200, {
      'Content-Type': types[extname(path)] ?? 'application/octet-stream',
      ...isolation,
      'Cache-Control': 'no-store',
    });
    createReadStream(path).pipe(res);
  });
  return new Promise((ok) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      ok({ url: `http://127.0.0.1:${p}`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const isolated = !args.includes('--no-isolation');
  const port = Number(args.find((a) => /^\d+$/.test(a)) ?? 8080);
  const { url } = await startServer(port, { isolated });
  console.log(
    `serving ${root} ${isolated ? 'cross-origin isolated (COOP/COEP: threads)' : 'without COOP/COEP (one thread)'}\n` +
      `open ${url}/examples/browser/ (the packages must be built: pnpm build)`,
  );
}

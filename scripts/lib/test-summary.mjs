// SPDX-License-Identifier: MIT
// The one grand-total line of `npm test` (and of CI): sums every suite's own count line in a log.
//   vitest:          " Tests  12 passed | 1 failed | 2 skipped (15)"
//   node --test:     "ℹ pass 7", "ℹ fail 0", "ℹ skipped 0"
//   our scripts:     "<name>: 3 passed, 0 failed[, 1 skipped][ (why)]" (native, install-scenarios, demo-check, ...)
// A bare "N passed, N failed" line (an earlier grand total) is not a suite and is not counted again.
// Usage as a program: node scripts/lib/test-summary.mjs LOG...  (prints the total line)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Removes ANSI colour/cursor sequences. */
export function stripAnsi(text) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/**
 * Turbo's and pnpm's own chatter in the test run, not the suites' output: turbo's header and footer,
 * "cache bypass, force executing ..." per task, pnpm's "> pkg@1.0.0 test /path" / "> vitest run" banners,
 * and lines that are only a task prefix. Hidden from the screen (kept for the total).
 */
const CHATTER = [
  /^\S+:[\w:-]+: cache (bypass|miss|hit)\b/,
  /^\S+:[\w:-]+: > /,
  /^\S+:[\w:-]+:\s*$/,
  /^\s*• /,
  /^\s*turbo \d+\.\d+/,
  /^\s*(Tasks|Cached|Time):\s+/,
];

/** True for a line of {@link CHATTER} (colour codes already removed). */
export function isChatter(line) {
  return CHATTER.some((re) => re.test(line));
}

/** `{ passed, failed, skipped, suites }` summed over the count lines of `text`. */
export function summarize(text) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let suites = 0;
  for (const raw of stripAnsi(text).split(/\r?\n/)) {
    // Drop turbo's "<package>:<task>: " prefix.
    const line = raw.replace(/^\S+:[\w-]+: /, '');
    const vitest = /^\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line);
    if (vitest) {
      suites++;
      for (const [, n, what] of vitest[1].matchAll(/(\d+)\s+(passed|failed|skipped|todo)/g)) {
        if (what === 'passed') passed += Number(n);
        else if (what === 'failed') failed += Number(n);
        else skipped += Number(n);
      }
      continue;
    }
    const nodeTest = /^ℹ (pass|fail|skipped|todo) (\d+)\s*$/.exec(line);
    if (nodeTest) {
      if (nodeTest[1] === 'pass') {
        passed += Number(nodeTest[2]);
        suites++;
      } else if (nodeTest[1] === 'fail') failed += Number(nodeTest[2]);
      else skipped += Number(nodeTest[2]);
      continue;
    }
    const ours = /^\s*[\w@/.-]+: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?(?:\s.*)?$/.exec(line);
    if (ours) {
      suites++;
      passed += Number(ours[1]);
      failed += Number(ours[2]);
      skipped += Number(ours[3] ?? 0);
    }
  }
  return { passed, failed, skipped, suites };
}

/** The closing line: `N passed, N failed` (`, N skipped` when any were). */
export function totalLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = process.argv
    .slice(2)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  console.log(totalLine(summarize(text)));
}

#!/usr/bin/env node
'use strict';
/**
 * cookie-bridge benchmarks (`npm run bench` = build, then this). Plain Node, uses the built dist/.
 * Loopback traffic only; every section is bounded in time; every child process is started through the
 * shared child-process handle (dist/fixtures/real-components) and killed at the end (also on Ctrl-C).
 * Writes the results table into bench/README.md between the results markers.
 *
 *   1. HTTP throughput and latency (wrk, 32 connections, 1 KiB JSON): direct, nginx injecting the
 *      Cookie, cookie-bridge proxy.                                          sections/throughput.js
 *   2. A 1 GiB response: direct, through cookie-bridge proxy, through cookie-bridge request; peak RSS.
 *                                                                            sections/streaming.js
 *   3. Cold start (hyperfine): node -e '', api info --offline, api info.    sections/cold-start.js
 *   4. Login tail: bundle POSTed to the loopback listener → CLI exit.       sections/login.js
 *   5. Load: the proxy, then serve, under wrk -c500 and 1000 WebSockets echoing at once.  sections/load.js
 *
 * Floors in the same run: bench/floor-proxy.js (sections 1, 2), bench/floor-request.js (section 2),
 * node loading only node:http or undici (section 3). The report starts with a summary table
 * "measure | now | target | met?"; each section's heading carries the load average when it started.
 *
 * The stack measured is in stack.js, the report in report.js (+ machine-note.js), the README update in
 * readme-writer.js. Environment: BENCH_WRK_SECONDS (default 10), BENCH_SECTIONS (e.g. "1,3"),
 * BENCH_NO_README=1.
 */
const fs = require('node:fs');
const os = require('node:os');

const START_LOAD = os.loadavg();
const { CLI, README, SECTIONS, WRITE_README, WRK_SECONDS } = require('./settings');

function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build (npm run bench does)');
  // Required only now: they load the built shared launchers from dist/.
  const { machineNote } = require('./machine-note');
  const { stopAll, withTimeout } = require('./processes');
  const { writeReadme } = require('./readme-writer');
  const { report } = require('./report');
  const { sectionColdStart } = require('./sections/cold-start');
  const { sectionLoad } = require('./sections/load');
  const { sectionLogin } = require('./sections/login');
  const { sectionStreaming } = require('./sections/streaming');
  const { sectionThroughput } = require('./sections/throughput');

  // SIGINT/SIGTERM exit through process.exit, whose 'exit' hook in the shared handle kills every child group.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

  const sections = [
    // [id, label, function, time budget, the key of its results]
    ['1', 'throughput', sectionThroughput, (WRK_SECONDS + 2) * 6 * 1000 + 60_000, 'throughput'],
    ['2', 'streaming', sectionStreaming, 900_000, 'streaming'],
    ['3', 'cold start', sectionColdStart, 300_000, 'coldStart'],
    ['4', 'login', sectionLogin, 300_000, 'login'],
    ['5', 'load', sectionLoad, (WRK_SECONDS + 200) * 2 * 1000 + 60_000, 'load'],
  ];
  return (async () => {
    const results = {};
    const errors = [];
    try {
      for (const [id, label, fn, budget, key] of sections) {
        if (!SECTIONS.has(id)) continue;
        const loadAverage = os.loadavg();
        process.stderr.write(
          `bench: ${id}. ${label} (load average ${loadAverage.map((x) => x.toFixed(1)).join(' ')})…\n`,
        );
        try {
          await withTimeout(fn(results), budget, `section ${id}`);
          if (results[key]) results[key].loadAverage = loadAverage;
        } catch (error) {
          errors.push([id, error instanceof Error ? error.message : String(error)]);
          process.stderr.write(
            `bench: section ${id} failed: ${error instanceof Error ? error.message : error}\n`,
          );
        }
      }
    } finally {
      await stopAll();
      if (results.upstream) fs.rmSync(results.upstream.home, { recursive: true, force: true });
    }
    const text = report(machineNote(START_LOAD), results, errors);
    process.stdout.write(`${text}\n`);
    if (WRITE_README) writeReadme(README, text);
    process.exitCode = errors.length === 0 ? 0 : 1;
  })();
}

Promise.resolve()
  .then(main)
  .catch((error) => {
    process.stderr.write(`bench: ${error.stack || error}\n`);
    process.exitCode = 1;
  });

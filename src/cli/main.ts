#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// V8's compile cache (Node >= 22.1) makes later start-ups skip compiling our and our dependencies' code.
// Node 20 has no such API: nothing happens there. Must run before the CLI's modules are required.
const withCompileCache = nodeModule as { enableCompileCache?: (directory?: string) => unknown };
if (typeof withCompileCache.enableCompileCache === 'function') {
  try {
    withCompileCache.enableCompileCache(join(tmpdir(), 'cookie-bridge-compile-cache'));
  } catch {
    // a cache we cannot use only costs speed
  }
}

/* eslint-disable @typescript-eslint/no-require-imports */
const { runCli } = require('./run-cli') as typeof import('./run-cli');

const { version } = require('../../../package.json') as { version: string };
/* eslint-enable @typescript-eslint/no-require-imports */

// `cookie-bridge … | head` closes the pipe early: that is the reader's choice, not an error.
// Other stream errors reach the command that was writing (request's pipeline reports them).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

// runCli never rejects: its one top-level handler (report-error.ts) has turned any error into output already.
void runCli(process.argv, version).then((code) => {
  process.exitCode = code;
});

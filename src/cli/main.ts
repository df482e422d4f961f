#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { compileCacheDirectory, enableCompileCacheIfAvailable, type CompileCacheHost } from './compile-cache';

// Before the CLI's modules are required: with the cache, Node >= 22.1 skips compiling them on later runs.
enableCompileCacheIfAvailable(nodeModule as CompileCacheHost, compileCacheDirectory(process.env, homedir()));

/* eslint-disable @typescript-eslint/no-require-imports */
const { version } = require('../../../package.json') as { version: string };

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one answer that needs no parser: commander and the commands stay unloaded (as commander prints it).
  process.stdout.write(`${version}\n`);
} else {
  const { runCli } = require('./run-cli') as typeof import('./run-cli');
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
}

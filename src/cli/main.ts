#!/usr/bin/env node
import { runCli } from './run-cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../../package.json') as { version: string };

// `cookie-bridge … | head` closes the pipe early: that is the reader's choice, not an error.
// Other stream errors reach the command that was writing (request's pipeline reports them).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

runCli(process.argv, version).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cookie-bridge: unexpected error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);

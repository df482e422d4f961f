#!/usr/bin/env node
import { runCli } from './run-cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../../package.json') as { version: string };

runCli(process.argv, version).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cookie-bridge: unexpected error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
import { join } from 'node:path';
import { homeFolder } from '../store/home-folder';
import { CLI_CORE_ID } from './cli-core-id';
import type { CliHost } from './cli-context';
import { loadBundleWithCodeCache, type LoadedBundle } from './code-cache';
import { compileCacheDirectory, enableCompileCacheIfAvailable, nodeModuleApi } from './compile-cache';
import { createFdOutput } from './terminal-output';

// require, not `import * as`: the bundle would copy every property of node:module into a new object. On
// Node 20, node:module's class without the public module's extras (compile-cache.ts).
const nodeModule = nodeModuleApi(
  process.versions.node,
  module,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  () => require('node:module') as typeof import('node:module'),
);

// Before the CLI's modules are required: with the cache, Node >= 22.1 skips compiling them on later runs.
const cacheDirectory = compileCacheDirectory(process.env, homeFolder());
const nodeCompileCache = enableCompileCacheIfAvailable(nodeModule, cacheDirectory);

/* eslint-disable @typescript-eslint/no-require-imports */
const { version } = require('../../../package.json') as { version: string };

type RunCli = typeof import('./run-cli').runCli;

/**
 * The core bundle: on a Node without its own compile cache (Node 20), compiled with V8's code cache
 * (code-cache.ts) when the bundle has a build id; NODE_DISABLE_COMPILE_CACHE turns both caches off.
 */
function loadCore(): { runCli: RunCli; bundle?: LoadedBundle } {
  const uid = process.getuid?.();
  if (
    nodeCompileCache ||
    CLI_CORE_ID === undefined ||
    uid === undefined ||
    (process.env.NODE_DISABLE_COMPILE_CACHE ?? '') !== ''
  )
    return { runCli: (require('./run-cli') as typeof import('./run-cli')).runCli };
  const bundle = loadBundleWithCodeCache(join(__dirname, 'cli-core.js'), {
    directory: cacheDirectory,
    bundleId: CLI_CORE_ID,
    uid,
    moduleApi: nodeModule,
    vm: require('node:vm') as typeof import('node:vm'),
  });
  return { runCli: (bundle.exports as typeof import('./run-cli')).runCli, bundle };
}

// `cookie-bridge … | head` closes the pipe early: that is the reader's choice, not an error.
const readerGone = (): void => process.exit(process.exitCode ?? 0);
/** process.stdout or process.stderr, made only when an output needs it (terminal-output.ts). */
const stdioStream = (name: 'stdout' | 'stderr') => (): NodeJS.WriteStream => {
  const stream = process[name];
  // Other stream errors reach the command that was writing (request's pipeline reports them).
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') readerGone();
  });
  return stream;
};
const stdout = createFdOutput({ fd: 1, stream: stdioStream('stdout'), onReaderGone: readerGone });
const stderr = createFdOutput({ fd: 2, stream: stdioStream('stderr'), onReaderGone: readerGone });

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one answer that needs no parser: commander and the commands stay unloaded (as commander prints it).
  stdout.write(`${version}\n`);
} else {
  const { runCli, bundle } = loadCore();
  /* eslint-enable @typescript-eslint/no-require-imports */

  // A cache written after V8's flags changed would be refused by every later start: write it before the
  // first change, or at exit if none happened.
  let flagsChanged = false;
  const host: CliHost = {
    openPackage: async () => (await import('open')).default,
    beforeV8FlagsChange: () => {
      if (!flagsChanged) bundle?.save();
      flagsChanged = true;
    },
    stdout,
    stderr,
    ...(bundle === undefined ? {} : { codeCache: `${bundle.state} (${bundle.file})` }),
  };
  if (bundle !== undefined) {
    process.on('exit', () => {
      if (!flagsChanged) bundle.save();
    });
  }

  // runCli never rejects: its one top-level handler (report-error.ts) has turned any error into output already.
  void runCli(process.argv, version, host).then((code) => {
    process.exitCode = code;
  });
}

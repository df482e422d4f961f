'use strict';
/**
 * Bench's child processes, started and stopped through the shared child-process handle of
 * fixtures/real-components (each in its own process group, killed when this process exits), plus the
 * waits bench needs on top of it: a line on stdout, a run to completion, a deadline.
 */
const path = require('node:path');

const { REAL_COMPONENTS, childEnv } = require('./settings');

const { startChild } = require(path.join(REAL_COMPONENTS, 'child-process-handle.js'));
const { COMPONENT_START_TIMEOUT_MS } = require(path.join(REAL_COMPONENTS, 'budgets.js'));

/** Handles started by this run and not yet stopped. */
const running = new Set();

/**
 * Starts `command` with stdout and stderr captured apart (`stdout: 'ignore'` discards stdout); its env is
 * `options.env`, else this process's without proxy variables (settings.childEnv).
 */
function start(command, args, options = {}) {
  const handle = startChild({
    name: [path.basename(command), ...args.map((arg) => path.basename(String(arg)))].join(' ').slice(0, 80),
    command,
    args,
    env: options.env ?? childEnv(),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.stdout === undefined ? {} : { stdout: options.stdout }),
  });
  running.add(handle);
  void handle.exited.then(() => running.delete(handle));
  return handle;
}

/** Stops every child still running (SIGTERM to its group, SIGKILL after the shared grace period). */
function stopAll() {
  return Promise.all([...running].map((handle) => handle.stop()));
}

/**
 * Resolves the match once the child's stdout (or `stream` 'stderr') matches `pattern`; rejects with its
 * stderr when it exits first.
 */
function waitForOutput(handle, pattern, timeoutMs = COMPONENT_START_TIMEOUT_MS, stream = 'stdout') {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = handle[stream]().match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern} from ${handle.name}:\n${handle.stderr()}`));
    }, timeoutMs);
    const onExit = () => {
      cleanup();
      reject(new Error(`${handle.name} exited before printing ${pattern}:\n${handle.stderr()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      handle.child[stream].off('data', check);
      handle.child.off('exit', onExit);
    };
    handle.child[stream].on('data', check);
    handle.child.once('exit', onExit);
    check();
  });
}

/** Runs a command to completion; killed after timeoutMs. */
async function run(command, args, options = {}, timeoutMs = 120_000) {
  const handle = start(command, args, options);
  const timer = setTimeout(() => void handle.stop(0), timeoutMs);
  const result = await handle.exited;
  clearTimeout(timer);
  return { ...result, stdout: handle.stdout(), stderr: handle.stderr() };
}

/** Rejects with "<label> took longer than …" when `promise` is not settled within `ms`. */
function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

module.exports = { start, stopAll, waitForOutput, run, withTimeout };

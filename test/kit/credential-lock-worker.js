'use strict';
/**
 * A separate process that follows FileCredentialStore's on-disk protocol without loading the TypeScript
 * sources: lock `<endpoint folder>.lock` with proper-lockfile, read cookies.json, change it, replace it
 * atomically, unlock. Used by test/integration/file-credential-store-concurrency.test.ts.
 *
 *   node credential-lock-worker.js add <endpointFolder> <host> <namePrefix> <count>
 *     adds cookies <namePrefix>0 … <namePrefix><count-1>, one locked read-modify-write each
 *   node credential-lock-worker.js hold <endpointFolder>
 *     takes the lock, prints "locked" and waits to be killed
 */
const fs = require('node:fs');
const path = require('node:path');
const lockfile = require('proper-lockfile');

const [mode, folder, ...rest] = process.argv.slice(2);

function lockOptions(stale) {
  return {
    lockfilePath: `${folder}.lock`,
    realpath: false,
    stale,
    retries: { retries: 30, factor: 1.5, minTimeout: 25, maxTimeout: 1000, randomize: true },
  };
}

function replaceAtomically(file, text) {
  const tmp = `${file}.worker-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

async function add(host, prefix, count) {
  const file = path.join(folder, 'cookies.json');
  for (let i = 0; i < count; i += 1) {
    const release = await lockfile.lock(folder, lockOptions(5000));
    try {
      const jar = JSON.parse(fs.readFileSync(file, 'utf8'));
      const now = new Date().toISOString();
      jar.cookies.push({
        key: `${prefix}${i}`,
        value: `w${process.pid}`,
        domain: host,
        path: '/',
        httpOnly: true,
        hostOnly: true,
        creation: now,
        lastAccessed: now,
      });
      replaceAtomically(file, `${JSON.stringify(jar, null, 2)}\n`);
    } finally {
      await release();
    }
  }
}

async function hold() {
  await lockfile.lock(folder, lockOptions(2000));
  process.stdout.write('locked\n');
  setTimeout(() => undefined, 600_000); // keeps the process (and the lock) alive until it is killed
}

const run =
  mode === 'add'
    ? add(rest[0], rest[1], Number(rest[2]))
    : mode === 'hold'
      ? hold()
      : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

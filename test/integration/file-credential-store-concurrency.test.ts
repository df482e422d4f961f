import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EndpointProfile } from '../../src/store/credential-types';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { lockPathFor } from '../../src/store/secure-file';
import { CONTENDED_LOCK_RETRIES } from '../../fixtures/real-components/budgets';

/**
 * Many writers on one endpoint's jar at once: separate FileCredentialStore instances in this process and
 * real child processes (test/kit/credential-lock-worker.js, which follows the same lock protocol).
 * No write may be lost.
 */

const WORKER = path.join(__dirname, '..', 'kit', 'credential-lock-worker.js');
const ENDPOINT = 'http://127.0.0.1:7000';
const URL_ = new URL(`${ENDPOINT}/api`);

let home: string;
const children: ChildProcess[] = [];

function profile(endpoint: string): EndpointProfile {
  return { endpoint, auth: { type: 'cookies' }, loggedInAt: '2030-01-01T00:00:00Z' };
}

function startWorker(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

async function exitCodeOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

async function firstLine(child: ChildProcess): Promise<string> {
  if (child.stdout === null) throw new Error('no stdout');
  child.stdout.setEncoding('utf8');
  const [chunk] = (await once(child.stdout, 'data')) as [string];
  return chunk;
}

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-store-concurrency-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await fs.rm(home, { recursive: true, force: true });
});

it('parallel applySetCookies through separate instances never lose a write', async () => {
  await new FileCredentialStore({ home }).saveLogin(profile(ENDPOINT), [{ name: 'session', value: 's0' }]);
  const writers = 40;
  await Promise.all(
    Array.from({ length: writers }, (_, i) =>
      new FileCredentialStore({ home, lock: { retries: CONTENDED_LOCK_RETRIES } }).applySetCookies(
        ENDPOINT,
        URL_,
        [`c${i}=v${i}; Path=/`],
      ),
    ),
  );
  const names = (await new FileCredentialStore({ home }).listCookies(ENDPOINT)).map((c) => c.name).sort();
  const expected = ['session', ...Array.from({ length: writers }, (_, i) => `c${i}`)].sort();
  expect(names).toEqual(expected);
  const folder = new FileCredentialStore({ home }).pathsFor(ENDPOINT).folder;
  await expect(fs.readdir(path.dirname(folder))).resolves.toEqual([path.basename(folder)]); // no lock left
});

it('child processes and in-process writers interleave without losing a write', async () => {
  const store = new FileCredentialStore({ home });
  await store.saveLogin(profile(ENDPOINT), [{ name: 'session', value: 's0' }]);
  const folder = store.pathsFor(ENDPOINT).folder;
  const processes = 4;
  const perProcess = 8;
  const inProcess = 16;
  const workers = Array.from({ length: processes }, (_, p) =>
    exitCodeOf(startWorker(['add', folder, '127.0.0.1', `p${p}_`, String(perProcess)])),
  );
  const local = Array.from({ length: inProcess }, (_, i) =>
    new FileCredentialStore({ home, lock: { retries: CONTENDED_LOCK_RETRIES } }).applySetCookies(
      ENDPOINT,
      URL_,
      [`l${i}=v${i}; Path=/`],
    ),
  );
  const [results] = await Promise.all([Promise.all(workers), Promise.all(local)]);
  for (const result of results) expect(result).toEqual({ code: 0, stderr: '' });

  const names = new Set((await store.listCookies(ENDPOINT)).map((c) => c.name));
  const expected = [
    'session',
    ...Array.from({ length: inProcess }, (_, i) => `l${i}`),
    ...Array.from(
      { length: processes * perProcess },
      (_, n) => `p${Math.floor(n / perProcess)}_${n % perProcess}`,
    ),
  ];
  expect([...names].sort()).toEqual(expected.sort());
  // The cookies the workers wrote are replayed like any other.
  await expect(store.getCookieHeader(ENDPOINT, URL_)).resolves.toContain('p3_7=w');
});

it('writers of different endpoints do not wait for each other', async () => {
  const other = 'http://127.0.0.1:7001';
  const store = new FileCredentialStore({ home, lock: { retries: 0 } });
  await store.saveLogin(profile(ENDPOINT), [{ name: 'a', value: '1' }]);
  await store.saveLogin(profile(other), [{ name: 'b', value: '1' }]);
  const holder = startWorker(['hold', store.pathsFor(ENDPOINT).folder]);
  await expect(firstLine(holder)).resolves.toBe('locked\n');

  // With no retries, the held endpoint fails at once and the other one is untouched by it.
  await expect(store.applySetCookies(ENDPOINT, new URL(ENDPOINT), ['a=2'])).rejects.toMatchObject({
    code: 'E_LOCK_FAILED',
  });
  await store.applySetCookies(other, new URL(other), ['b=2']);
  await store.saveLogin(profile(other), [{ name: 'b', value: '3' }]);
  await expect(store.getCookieHeader(other, new URL(other))).resolves.toBe('b=3');
});

it('takes over the lock of a process killed while holding it', async () => {
  const store = new FileCredentialStore({ home, lock: { staleMs: 2000 } });
  await store.saveLogin(profile(ENDPOINT), [{ name: 'a', value: '1' }]);
  const folder = store.pathsFor(ENDPOINT).folder;
  const holder = startWorker(['hold', folder]);
  await expect(firstLine(holder)).resolves.toBe('locked\n');
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  await expect(fs.stat(lockPathFor(folder))).resolves.toBeTruthy(); // left behind by the dead process

  await store.applySetCookies(ENDPOINT, new URL(ENDPOINT), ['a=2']);
  await expect(store.getCookieHeader(ENDPOINT, new URL(ENDPOINT))).resolves.toBe('a=2');
  await expect(fs.stat(lockPathFor(folder))).rejects.toMatchObject({ code: 'ENOENT' });
});

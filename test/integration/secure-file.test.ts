import { chmodSync, mkdirSync, promises as fs, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { CredentialFileError } from '../../src/errors';
import * as fsCalls from '../../src/store/fs-calls';
import {
  checkPrivateDir,
  ensurePrivateDir,
  lockPathFor,
  readJsonFile,
  withFileLock,
  writeFileSecurely,
  writeNamedFileSecurely,
  type AtomicWrite,
} from '../../src/store/secure-file';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-secure-file-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** What this process's open file descriptors point at (Linux's /proc), e.g. to find one left open. */
async function openFileTargets(): Promise<string[]> {
  const fds = await fs.readdir('/proc/self/fd');
  const targets = await Promise.all(
    fds.map((fd) => fs.readlink(path.join('/proc/self/fd', fd)).catch(() => '')),
  );
  return targets.filter((target) => target !== '');
}

async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

async function expectCredentialFileError(
  promise: Promise<unknown>,
  code: string,
): Promise<CredentialFileError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialFileError);
  const fileError = error as CredentialFileError;
  expect(fileError.code).toBe(code);
  return fileError;
}

describe('readJsonFile', () => {
  it('returns undefined for a missing file (not logged in)', async () => {
    await expect(readJsonFile(path.join(dir, 'missing.json'))).resolves.toBeUndefined();
  });

  it('parses valid JSON', async () => {
    const file = path.join(dir, 'ok.json');
    await fs.writeFile(file, '{"a":[1,2]}');
    await expect(readJsonFile(file)).resolves.toEqual({ a: [1, 2] });
  });

  it.each([
    ['truncated', '{"token":"s3cr3t-value'],
    ['empty', ''],
    ['edited by hand', "{ token: 's3cr3t-value' }"],
  ])(
    'reports %s JSON as E_CORRUPT_FILE naming the file, without quoting it, and leaves it alone',
    async (_n, text) => {
      const file = path.join(dir, 'bad.json');
      await fs.writeFile(file, text);
      const error = await expectCredentialFileError(
        readJsonFile(file, { hint: 'delete it' }),
        'E_CORRUPT_FILE',
      );
      expect(error.file).toBe(file);
      expect(error.message).toBe(`${file}: is not valid JSON (truncated or edited by hand?)`);
      expect(error.hint).toBe('delete it');
      expect(JSON.stringify(error.toJSON())).not.toContain('s3cr3t');
      expect(await fs.readFile(file, 'utf8')).toBe(text);
    },
  );

  it('reads a file larger than one read whole, multi-byte characters across read boundaries included', async () => {
    const file = path.join(dir, 'large.json');
    // 3-byte characters at odd offsets: a read that decoded each chunk alone would break some of them.
    const value = { cookies: Array.from({ length: 3000 }, (_, i) => ({ key: `c${i}`, value: '€ü€' })) };
    await fs.writeFile(file, JSON.stringify(value));
    expect((await fs.stat(file)).size).toBeGreaterThan(64 * 1024);
    await expect(readJsonFile(file)).resolves.toEqual(value);
  });

  it('closes every file it opens, whatever the outcome (read, refused, unreadable, not JSON)', async () => {
    const ok = path.join(dir, 'ok.json');
    await fs.writeFile(ok, '{"a":1}');
    const notJson = path.join(dir, 'not-json.json');
    await fs.writeFile(notJson, '{');
    const shared = path.join(dir, 'shared.json');
    await fs.writeFile(shared, '{"a":1}');
    await fs.chmod(shared, 0o666);
    const folder = path.join(dir, 'folder.json');
    await fs.mkdir(folder);
    const link = path.join(dir, 'link.json');
    await fs.symlink(ok, link);
    const exported = path.join(dir, 'export.txt');
    await fs.writeFile(exported, 'not an export');
    const outcomes: string[] = [];
    const record = (promise: Promise<unknown>): Promise<void> =>
      promise.then(
        () => void outcomes.push('ok'),
        (error: unknown) => void outcomes.push((error as { code?: string }).code ?? 'error'),
      );
    for (let round = 0; round < 5; round += 1) {
      for (const file of [ok, notJson, shared, folder, link]) await record(readJsonFile(file));
      await record(writeNamedFileSecurely(exported, 'x', { mayReplace: () => false }));
      await record(writeNamedFileSecurely(path.join(dir, 'new-export.txt'), 'x'));
    }
    expect(outcomes.slice(0, 7)).toEqual([
      'ok',
      'E_CORRUPT_FILE',
      'E_UNSAFE_PERMISSIONS',
      'E_CORRUPT_FILE',
      'E_UNSAFE_PERMISSIONS',
      'E_USAGE',
      'ok',
    ]);
    const real = await fs.realpath(dir);
    expect((await openFileTargets()).filter((target) => target.startsWith(real))).toEqual([]);
  });

  it('reports an unreadable path (a folder) as E_CORRUPT_FILE with a default hint', async () => {
    const folder = path.join(dir, 'folder');
    await fs.mkdir(folder);
    const error = await expectCredentialFileError(readJsonFile(folder), 'E_CORRUPT_FILE');
    expect(error.message).toContain('cannot be read (EISDIR)');
    expect(error.hint).toContain(`delete it`);
  });
});

describe('writeFileSecurely', () => {
  it('creates the folder 0700 and the file 0600 under a loose umask', async () => {
    const previous = process.umask(0o000);
    try {
      const file = path.join(dir, 'a', 'b', 'secret.json');
      await writeFileSecurely(file, '{"x":1}\n');
      expect(await fs.readFile(file, 'utf8')).toBe('{"x":1}\n');
      expect(await modeOf(file)).toBe(0o600);
      expect(await modeOf(path.dirname(file))).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('tightens an existing 0644 file and 0755 folder on update', async () => {
    const previous = process.umask(0o022);
    try {
      const folder = path.join(dir, 'loose');
      const file = path.join(folder, 'cookies.json');
      await fs.mkdir(folder, { mode: 0o755 });
      await fs.writeFile(file, 'old', { mode: 0o644 });
      expect(await modeOf(file)).toBe(0o644);
      await writeFileSecurely(file, 'new');
      expect(await fs.readFile(file, 'utf8')).toBe('new');
      expect(await modeOf(file)).toBe(0o600);
      expect(await modeOf(folder)).toBe(0o700);
    } finally {
      process.umask(previous);
    }
  });

  it('refuses a shared sticky folder such as /tmp, and leaves it alone', async () => {
    const shared = path.join(dir, 'shared');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    await expectCredentialFileError(
      writeFileSecurely(path.join(shared, 'f.json'), '{}'),
      'E_UNSAFE_PERMISSIONS',
    );
    expect((await fs.stat(shared)).mode & 0o7777).toBe(0o1777);
    expect(await fs.readdir(shared)).toEqual([]);
  });

  it.each(['ENOSPC', 'EROFS', 'EACCES'])(
    'keeps the previous content when the write fails half-way (%s) and says so',
    async (code) => {
      const file = path.join(dir, 'cookies.json');
      await writeFileSecurely(file, 'previous');
      // The real write-file-atomic, failing after its temp file was created: the rename never happens.
      const failing: AtomicWrite = (target, data, options) =>
        writeFileAtomic(target, data, {
          ...options,
          tmpfileCreated: () => {
            throw Object.assign(new Error(`${code}: simulated`), { code });
          },
        });
      const error = await expectCredentialFileError(
        writeFileSecurely(file, 'next-s3cr3t', { atomicWrite: failing }),
        'E_WRITE_FAILED',
      );
      expect(error.file).toBe(file);
      expect(error.message).toContain(code);
      expect(error.hint).toEqual(expect.any(String));
      expect(JSON.stringify(error.toJSON())).not.toContain('s3cr3t');
      expect(await fs.readFile(file, 'utf8')).toBe('previous');
      expect(await fs.readdir(dir)).toEqual(['cookies.json']); // no temp file left behind
    },
  );

  it('fails with E_WRITE_FAILED when a parent path is a regular file', async () => {
    const blocker = path.join(dir, 'blocker');
    await fs.writeFile(blocker, 'not a folder');
    const error = await expectCredentialFileError(
      writeFileSecurely(path.join(blocker, 'sub', 'x.json'), 'data'),
      'E_WRITE_FAILED',
    );
    expect(error.message).toContain('ENOTDIR');
    expect(await fs.readFile(blocker, 'utf8')).toBe('not a folder');
  });

  it('ensurePrivateDir refuses a path that is a file', async () => {
    const file = path.join(dir, 'file');
    await fs.writeFile(file, '');
    await expectCredentialFileError(ensurePrivateDir(file), 'E_WRITE_FAILED');
  });
});

describe('withFileLock', () => {
  const target = (): string => path.join(dir, 'endpoint');

  it('returns the result and removes the lock folder', async () => {
    await expect(withFileLock(target(), () => Promise.resolve(42))).resolves.toBe(42);
    await expect(fs.stat(lockPathFor(target()))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('releases the lock when fn throws, and passes the error on', async () => {
    const boom = new Error('boom');
    await expect(withFileLock(target(), () => Promise.reject(boom))).rejects.toBe(boom);
    await expect(withFileLock(target(), () => Promise.resolve('again'), { retries: 0 })).resolves.toBe(
      'again',
    );
  });

  it('lets only one holder in at a time', async () => {
    let inside = 0;
    let maxInside = 0;
    const counter = path.join(dir, 'counter');
    await fs.writeFile(counter, '0');
    const increment = (): Promise<void> =>
      withFileLock(target(), async () => {
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        // A read-modify-write that yields to the event loop between the read and the write.
        const value = Number(await fs.readFile(counter, 'utf8'));
        await fs.writeFile(counter, String(value + 1));
        inside -= 1;
      });
    await Promise.all(Array.from({ length: 12 }, increment));
    expect(maxInside).toBe(1);
    expect(await fs.readFile(counter, 'utf8')).toBe('12');
  });

  it('fails with E_LOCK_FAILED while a live holder keeps the lock', async () => {
    await fs.mkdir(lockPathFor(target())); // fresh mtime: a live holder
    const error = await expectCredentialFileError(
      withFileLock(target(), () => Promise.resolve('never'), { retries: 0 }),
      'E_LOCK_FAILED',
    );
    expect(error.file).toBe(lockPathFor(target()));
    expect(error.hint).toContain(lockPathFor(target()));
  });

  it('takes over a lock left behind by a dead process (old mtime)', async () => {
    const lockPath = lockPathFor(target());
    await fs.mkdir(lockPath);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lockPath, old, old);
    await expect(withFileLock(target(), () => Promise.resolve('recovered'), { retries: 0 })).resolves.toBe(
      'recovered',
    );
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with E_LOCK_FAILED when the lock cannot be created', async () => {
    const blocker = path.join(dir, 'blocker');
    await fs.writeFile(blocker, '');
    const error = await expectCredentialFileError(
      withFileLock(path.join(blocker, 'x'), () => Promise.resolve(1), { retries: 0 }),
      'E_LOCK_FAILED',
    );
    expect(error.message).toContain('ENOTDIR');
  });
});

// Guards assertPrivate: what the user does not own, or others can change, is refused and left as it is.
describe('folders and files that are not private', () => {
  it('refuses a symlinked folder for writes and reads; the folder it points to stays empty', async () => {
    const real = path.join(dir, 'real');
    const link = path.join(dir, 'link');
    await fs.mkdir(real, { mode: 0o700 });
    await fs.symlink(real, link);
    const error = await expectCredentialFileError(ensurePrivateDir(link), 'E_UNSAFE_PERMISSIONS');
    expect(error.message).toBe(
      `${link}: is a symbolic link; cookie-bridge never follows links to read or write credentials`,
    );
    await expectCredentialFileError(
      writeFileSecurely(path.join(link, 'f.json'), '{}'),
      'E_UNSAFE_PERMISSIONS',
    );
    await expectCredentialFileError(readJsonFile(path.join(link, 'f.json')), 'E_UNSAFE_PERMISSIONS');
    await expectCredentialFileError(checkPrivateDir(link), 'E_UNSAFE_PERMISSIONS');
    expect(await fs.readdir(real)).toEqual([]);
  });

  it('refuses to read or replace a symlinked file; its target keeps its content', async () => {
    const target = path.join(dir, 'target.json');
    const file = path.join(dir, 'private', 'cookies.json');
    await fs.writeFile(target, '{"mine":true}');
    await fs.mkdir(path.dirname(file), { mode: 0o700 });
    await fs.symlink(target, file);
    await expectCredentialFileError(readJsonFile(file), 'E_UNSAFE_PERMISSIONS');
    await expectCredentialFileError(writeFileSecurely(file, '{"x":1}'), 'E_UNSAFE_PERMISSIONS');
    expect(await fs.readFile(target, 'utf8')).toBe('{"mine":true}');
    expect((await fs.lstat(file)).isSymbolicLink()).toBe(true);
  });

  it.each([0o770, 0o707, 0o1777, 0o2775])(
    'refuses a folder with mode %s and leaves the mode',
    async (mode) => {
      const folder = path.join(dir, 'shared');
      await fs.mkdir(folder);
      await fs.chmod(folder, mode);
      const error = await expectCredentialFileError(ensurePrivateDir(folder), 'E_UNSAFE_PERMISSIONS');
      expect(error.message).toContain(`is writable by other users (mode ${mode.toString(8)})`);
      expect(error.hint).toContain(`chmod 700 ${folder}`);
      await expectCredentialFileError(checkPrivateDir(folder), 'E_UNSAFE_PERMISSIONS');
      expect((await fs.stat(folder)).mode & 0o7777).toBe(mode);
    },
  );

  it.each([0o620, 0o602, 0o666])('refuses a credential file with mode %s', async (mode) => {
    const file = path.join(dir, 'p', 'profile.json');
    await fs.mkdir(path.dirname(file), { mode: 0o700 });
    await fs.writeFile(file, '{}');
    await fs.chmod(file, mode);
    await expectCredentialFileError(readJsonFile(file), 'E_UNSAFE_PERMISSIONS');
    await expectCredentialFileError(writeFileSecurely(file, '{"x":1}'), 'E_UNSAFE_PERMISSIONS');
    expect(await fs.readFile(file, 'utf8')).toBe('{}');
  });

  it('refuses a folder and a file owned by another user (root can give them away; else root owns /)', async () => {
    const uid = process.getuid?.();
    if (uid !== 0) {
      await expectCredentialFileError(checkPrivateDir('/'), 'E_UNSAFE_PERMISSIONS');
      return;
    }
    const folder = path.join(dir, 'foreign');
    await fs.mkdir(folder, { mode: 0o700 });
    await fs.chown(folder, 65534, 65534);
    const error = await expectCredentialFileError(ensurePrivateDir(folder), 'E_UNSAFE_PERMISSIONS');
    expect(error.message).toBe(
      `${folder}: is owned by uid 65534, not by you (uid 0): its owner could read or replace your logins`,
    );
    expect(error.hint).toContain('COOKIE_BRIDGE_HOME');
    const file = path.join(dir, 'mine', 'cookies.json');
    await fs.mkdir(path.dirname(file), { mode: 0o700 });
    await fs.writeFile(file, '{}', { mode: 0o600 });
    await fs.chown(file, 65534, 65534);
    await expectCredentialFileError(readJsonFile(file), 'E_UNSAFE_PERMISSIONS');
    await expectCredentialFileError(writeFileSecurely(file, '{"x":1}'), 'E_UNSAFE_PERMISSIONS');
    expect((await fs.stat(file)).uid).toBe(65534);
  });

  it('checks a folder once a turn of the event loop: a folder opened to others is refused from the next turn', async () => {
    const folder = path.join(dir, 'home');
    const file = path.join(folder, 'profile.json');
    mkdirSync(folder, { mode: 0o700 });
    writeFileSync(file, '{"a":1}', { mode: 0o600 });
    const lstats = jest.spyOn(fsCalls, 'lstatSync');
    try {
      // One turn, as a command's store calls are: checkHome, then each read of a file in the folder.
      await checkPrivateDir(folder);
      await checkPrivateDir(folder);
      expect(await readJsonFile(file)).toEqual({ a: 1 });
      expect(lstats.mock.calls.filter(([target]) => target === folder)).toHaveLength(1);
      // The file itself is still checked at every read, on its own descriptor.
      chmodSync(file, 0o666);
      await expectCredentialFileError(readJsonFile(file), 'E_UNSAFE_PERMISSIONS');
      chmodSync(file, 0o600);
      chmodSync(folder, 0o777);
      await new Promise<void>((resolve) => setImmediate(resolve));
      await expectCredentialFileError(checkPrivateDir(folder), 'E_UNSAFE_PERMISSIONS');
      await expectCredentialFileError(readJsonFile(file), 'E_UNSAFE_PERMISSIONS');
      expect(lstats.mock.calls.filter(([target]) => target === folder)).toHaveLength(3);
    } finally {
      lstats.mockRestore();
      chmodSync(folder, 0o700);
    }
  });

  it('reads a missing folder as "not logged in", and a readable 0755 folder is fine', async () => {
    await expect(checkPrivateDir(path.join(dir, 'missing'))).resolves.toBeUndefined();
    const folder = path.join(dir, 'readable');
    await fs.mkdir(folder);
    await fs.chmod(folder, 0o755);
    await expect(checkPrivateDir(folder)).resolves.toBeUndefined();
  });
});

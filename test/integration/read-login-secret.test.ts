import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { cleanSecret, readLoginSecrets } from '../../src/cli/read-login-secret';
import type { Logger } from '../../src/context';
import { UsageError } from '../../src/errors';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m), warnings };
}

function stdinOf(text: string, isTTY = false): NodeJS.ReadableStream & { isTTY?: boolean } {
  return Object.assign(Readable.from([Buffer.from(text)]), { isTTY });
}

describe('cleanSecret', () => {
  it.each([
    ['tok\n', 'tok'],
    ['tok\r\n', 'tok'],
    ['tok', 'tok'],
    ['  spaced  ', '  spaced  '],
  ])('%j → %j (one trailing newline dropped, nothing else)', (raw, expected) => {
    expect(cleanSecret(raw, 'token', 'stdin')).toBe(expected);
  });

  it.each(['', '\n', '\r\n', 'a\nb', 'a\n\n', 'a\0b'])('refuses %j', (raw) => {
    expect(() => cleanSecret(raw, 'token', 'stdin')).toThrow(UsageError);
  });
});

describe('readLoginSecrets', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-login-secret-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('--password-stdin puts the password read from stdin into the endpoint, exactly as read', async () => {
    const logger = recordingLogger();
    const password = 'p@ss:w%rd/ü?#';
    const out = await readLoginSecrets(
      { endpoint: 'https://ci@api.example.com/base', passwordStdin: true },
      { stdin: stdinOf(`${password}\n`), logger },
    );
    const url = new URL(out.endpoint);
    expect([decodeURIComponent(url.username), decodeURIComponent(url.password)]).toEqual(['ci', password]);
    expect(url.pathname).toBe('/base');
    expect(logger.warnings).toEqual([]);
  });

  it('refuses stdin that is a terminal, naming the flag', async () => {
    const run = readLoginSecrets(
      { endpoint: 'https://api.example.com', tokenStdin: true },
      { stdin: stdinOf('x', true), logger: recordingLogger() },
    );
    await expect(run).rejects.toThrow(/--token-stdin reads the token from a pipe or file/);
  });

  it('--token-file reads the file and warns, naming chmod 600, when others can read it', async () => {
    const file = path.join(dir, 'token');
    await fs.writeFile(file, 'file-token\n', { mode: 0o600 });
    const logger = recordingLogger();
    const options = { endpoint: 'https://api.example.com', tokenFile: file };
    const deps = { stdin: stdinOf(''), logger, platform: 'linux' as const };
    expect((await readLoginSecrets(options, deps)).token).toBe('file-token');
    expect(logger.warnings).toEqual([]);
    await fs.chmod(file, 0o640);
    expect((await readLoginSecrets(options, deps)).token).toBe('file-token');
    expect(logger.warnings).toEqual([
      `--token-file ${file} can be read by other users (mode 640): chmod 600 ${file}`,
    ]);
  });

  it('--token-file: a missing file or a folder is a usage error that names it', async () => {
    const deps = { stdin: stdinOf(''), logger: recordingLogger() };
    await expect(
      readLoginSecrets({ endpoint: 'https://a.example', tokenFile: path.join(dir, 'nope') }, deps),
    ).rejects.toThrow(/--token-file .*nope cannot be read \(ENOENT\)/);
    await expect(readLoginSecrets({ endpoint: 'https://a.example', tokenFile: dir }, deps)).rejects.toThrow(
      UsageError,
    );
  });

  it('warns about --token and a password in -e, and not about a user without a password', async () => {
    const logger = recordingLogger();
    const deps = { stdin: stdinOf(''), logger };
    await readLoginSecrets({ endpoint: 'https://a.example', token: 'argv-token' }, deps);
    await readLoginSecrets({ endpoint: 'https://ci:pw@a.example' }, deps);
    await readLoginSecrets({ endpoint: 'https://ci@a.example' }, deps);
    await readLoginSecrets({ endpoint: 'https://a.example' }, deps);
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[0]).toMatch(/--token .*\(ps\).*--token-stdin or --token-file/);
    expect(logger.warnings[1]).toMatch(/password in -e .*\(ps\).*--password-stdin/);
    expect(logger.warnings.join('')).not.toMatch(/argv-token|:pw@/);
  });

  it('--password-stdin with a password already in -e is a usage error', async () => {
    await expect(
      readLoginSecrets(
        { endpoint: 'https://ci:pw@a.example', passwordStdin: true },
        { stdin: stdinOf('x'), logger: recordingLogger() },
      ),
    ).rejects.toThrow(/give the password only once/);
  });
});

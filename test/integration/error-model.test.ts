/**
 * One error model: ERROR_CODES (src/errors.ts) gives every code its exit code and hint, EXIT_CODES gives every
 * exit code its meaning, and the README, docs/security-model.md and `--help` say the same thing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli/run-cli';
import {
  CookieBridgeError,
  CredentialFileError,
  ERROR_CODES,
  EXIT_CODES,
  ExitCode,
  HttpStatusError,
  isErrorCode,
  LoginError,
  UsageError,
  type ErrorCode,
} from '../../src/errors';

const ROOT = path.join(__dirname, '..', '..');

/** The rows of the first Markdown table under a heading named "Exit codes": code → meaning. */
function exitCodeTable(markdown: string): Map<number, string> {
  const start = markdown.search(/^#{2,3} Exit codes$/m);
  if (start === -1) throw new Error('no "Exit codes" heading');
  const rows = new Map<number, string>();
  for (const line of markdown.slice(start).split('\n').slice(1)) {
    if (rows.size > 0 && !line.startsWith('|')) break;
    const match = /^\| (\d+) \| (.*) \|$/.exec(line);
    if (match !== null) rows.set(Number(match[1]), match[2] ?? '');
  }
  return rows;
}

const documentedCodes = Object.keys(EXIT_CODES).map(Number);

describe.each([['README.md'], [path.join('docs', 'security-model.md')]])('the exit codes in %s', (file) => {
  const table = exitCodeTable(readFileSync(path.join(ROOT, file), 'utf8'));

  it('are exactly the ones EXIT_CODES knows', () => {
    expect([...table.keys()]).toEqual(documentedCodes);
  });

  it.each(Object.entries(EXIT_CODES))('%s means what EXIT_CODES says', (code, { summary }) => {
    expect(table.get(Number(code))).toMatch(new RegExp(`^${escapeRegExp(summary)}`));
  });
});

describe('cookie-bridge --help', () => {
  it('lists every exit code with its EXIT_CODES meaning', async () => {
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await expect(runCli(['node', 'cookie-bridge', '--help'])).resolves.toBe(0);
    } finally {
      write.mockRestore();
    }
    const help = written.join('');
    const section = help.slice(help.indexOf('Exit codes:'), help.indexOf('Environment:'));
    const listed = [...section.matchAll(/(\d+) +(\S[^\n]*?)(?= {2,}\d|\n|$)/g)].map((m) => [
      Number(m[1]),
      m[2],
    ]);
    expect(new Map(listed as [number, string][])).toEqual(
      new Map(Object.entries(EXIT_CODES).map(([code, { help: text }]) => [Number(code), text])),
    );
  });
});

describe('ERROR_CODES', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it.each(codes)('%s has a documented exit code and at most a one-line hint', (code) => {
    const { exitCode, hint } = ERROR_CODES[code] as { exitCode: number; hint: string | undefined };
    expect(documentedCodes).toContain(exitCode);
    if (hint !== undefined) expect(hint).toMatch(/^[^\n]+$/);
  });

  const sources = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && file !== 'errors.ts')
    .map((file) => readFileSync(path.join(ROOT, 'src', file), 'utf8'))
    .join('\n');
  const quoted = new Set([...sources.matchAll(/'(E_[A-Z_]+)'/g)].map((m) => m[1] ?? ''));

  it('lists every code the code base throws or compares', () => {
    expect([...quoted].filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it('lists no code that nothing uses', () => {
    const used = new Set([...quoted, ...classCodes()]);
    expect(codes.filter((code) => !used.has(code))).toEqual([]);
  });

  it('is where every error takes its exit code and default hint from', () => {
    for (const code of codes) {
      const error = new CookieBridgeError(code, 'm');
      expect({ exitCode: error.exitCode, hint: error.hint }).toEqual(ERROR_CODES[code]);
    }
    expect(new UsageError('m', { hint: 'h' }).hint).toBe('h');
    expect(new LoginError('E_RELAY_GONE', 'm').exitCode).toBe(ExitCode.LoginFailed);
    expect(new CredentialFileError('E_LOCK_FAILED', 'f', 'd', 'h').exitCode).toBe(ExitCode.CredentialFile);
    expect(new HttpStatusError(404, 'Not Found').toJSON()).toEqual({
      code: 'E_HTTP_STATUS',
      message: 'HTTP 404 Not Found',
      exitCode: 22,
    });
  });
});

/** Codes the error classes of src/errors.ts set themselves (`super('E_…'`). */
function classCodes(): string[] {
  const text = readFileSync(path.join(ROOT, 'src', 'errors.ts'), 'utf8');
  return [...text.matchAll(/super\(\s*'(E_[A-Z_]+)'/g)].map((m) => m[1] ?? '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

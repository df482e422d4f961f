/**
 * The CLI in process (runCli): a plain command line runs its command without requiring commander at all
 * (src/cli/plain-command-line.ts); help and a mistyped option still go through commander and say what they
 * always said. test/unit/plain-command-line.test.ts compares the two parsers line by line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TextOutput } from '../../src/context';
import { runCli } from '../../src/cli/run-cli';
import { ExitCode } from '../../src/errors';

let mockCommanderRequires = 0;
jest.mock('commander', () => {
  mockCommanderRequires += 1;
  return jest.requireActual<typeof import('commander')>('commander');
});

const output = (): TextOutput & { text: () => string } => {
  const chunks: string[] = [];
  return {
    write: (chunk: string | Uint8Array): boolean => chunks.push(String(chunk)) > 0,
    text: () => chunks.join(''),
  };
};

describe('runCli and commander', () => {
  let home: string;
  const savedHome = process.env.COOKIE_BRIDGE_HOME;
  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), 'cookie-bridge-plain-'));
    process.env.COOKIE_BRIDGE_HOME = home;
  });
  afterAll(() => {
    if (savedHome === undefined) delete process.env.COOKIE_BRIDGE_HOME;
    else process.env.COOKIE_BRIDGE_HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it('a plain command line runs its command and never requires commander', async () => {
    const stdout = output();
    const stderr = output();
    const code = await runCli(
      ['node', 'cookie-bridge', 'api', 'info', '--offline', '--json', '-e', 'http://127.0.0.1:9'],
      '9.9.9',
      { stdout, stderr },
    );
    expect({ code, stderr: stderr.text() }).toEqual({ code: ExitCode.Ok, stderr: '' });
    expect(JSON.parse(stdout.text())).toMatchObject({
      endpoint: 'http://127.0.0.1:9',
      credential: 'not-logged-in',
    });
    expect(mockCommanderRequires).toBe(0);
  });

  it("a mistyped option is commander's: its message, the usage hint, exit 2", async () => {
    const stdout = output();
    const stderr = output();
    const code = await runCli(['node', 'cookie-bridge', 'api', 'info', '--ofline'], '9.9.9', {
      stdout,
      stderr,
    });
    expect(code).toBe(ExitCode.Usage);
    expect(stderr.text()).toBe(
      "error: unknown option '--ofline'\n(Did you mean --offline?)\n(run with --help for usage)\n",
    );
    expect(mockCommanderRequires).toBe(1);
  });

  it("help is commander's", async () => {
    const stdout = output();
    const code = await runCli(['node', 'cookie-bridge', 'api', 'info', '--help'], '9.9.9', {
      stdout,
      stderr: output(),
    });
    expect(code).toBe(ExitCode.Ok);
    expect(stdout.text()).toMatch(/^Usage: cookie-bridge api info \[options\]/);
  });
});

/** The CLI's surface: help, version, usage errors and exit codes, closed pipes. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { startDemoApi } from '../../fixtures/demo-api';
import { CLI_PATH, REPO_ROOT, cliEnv, makeTempHome, runCli } from '../kit/cli-runner';

describe('cookie-bridge CLI basics', () => {
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(() => {
    temp = makeTempHome();
  });
  afterAll(() => temp.cleanup());

  it('--help lists the commands and documents the exit codes', async () => {
    const result = await runCli(['--help'], cliEnv(temp.home));
    expect(result.code).toBe(0);
    for (const word of ['api', 'request', 'proxy', 'serve', 'Exit codes', 'COOKIE_BRIDGE_TOKEN']) {
      expect(result.stdout).toContain(word);
    }
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await runCli(['--version'], cliEnv(temp.home));
    expect(result.stdout.trim()).toBe(version);
  });

  it.each([
    [['api', 'login'], /required option/],
    [['api', 'login', '-e', 'http://127.0.0.1:9', '--port', '70000'], /--port must be/],
    [['request'], /missing required argument/],
    [['no-such-command'], /unknown command/],
    [['api', 'login', '-e', 'ftp://x'], /unsupported scheme/],
  ])('usage errors exit 2: %j', async (args, message) => {
    const result = await runCli(args, cliEnv(temp.home));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('not logged in anywhere: exit 3 with a hint', async () => {
    const result = await runCli(['request', '/api/x'], cliEnv(temp.home));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('hint: run cookie-bridge api login -e <endpoint>');
  });

  it('a reader that closes the pipe early (| head) is not an error', async () => {
    const api = await startDemoApi();
    const env = cliEnv(temp.home);
    try {
      const login = await runCli(['api', 'login', '-e', api.url], env);
      expect(login.code).toBe(0);
      const child = spawn(process.execPath, [CLI_PATH, 'request', '-s', '/api/bytes?size=200000000'], {
        env,
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(stderr).not.toMatch(/EPIPE|unexpected error/);
      expect(code).toBe(0);
    } finally {
      await api.close();
    }
  });
});

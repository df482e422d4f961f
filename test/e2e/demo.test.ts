/**
 * The README's main job: `npm run demo` (node dist/scripts/demo.js) starts the embedded stack, prints the
 * login command, and a real browser (Debian's chromium) signs in at the real OpenID provider through it.
 * Ctrl-C (SIGINT) stops everything and exits 0.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import {
  CHROMIUM_BROWSER_COMMAND,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_COMPONENT_PATHS,
  REAL_SETUP_TIMEOUT_MS,
  requireComponent,
} from '../kit/real-components';
import { REPO_ROOT, cliEnv, makeTempHome, runCli } from '../kit/cli-runner';

const haveChromium = requireComponent('chromium', REAL_COMPONENT_PATHS.chromium);
const describeWithChromium = haveChromium ? describe : describe.skip;

describeWithChromium('npm run demo', () => {
  let demo: ChildProcessWithoutNullStreams;
  let output = '';
  let temp: ReturnType<typeof makeTempHome>;

  beforeAll(async () => {
    temp = makeTempHome();
    demo = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'demo.js'), '--port', '0'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (/Ctrl-C stops the stack/.test(output)) resolve();
      };
      demo.stdout.on('data', check);
      demo.once('exit', (code) => reject(new Error(`demo exited early (${code}):\n${output}`)));
    });
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    if (demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGKILL');
      await new Promise((resolve) => demo.once('exit', resolve));
    }
    temp.cleanup();
  });

  it(
    'prints the login command, which signs in through the real provider; Ctrl-C stops it cleanly',
    async () => {
      const command = output.match(/npx cookie-bridge api login -e (http:\/\/127\.0\.0\.1:\d+)/);
      expect(command).not.toBeNull();
      const endpoint = command![1]!;
      const env = cliEnv(temp.home, { BROWSER: CHROMIUM_BROWSER_COMMAND, CHROMIUM_BROWSER_LOGIN: 'dana' });

      const login = await runCli(
        ['api', 'login', '-e', endpoint, '--timeout', REAL_CLI_LOGIN_TIMEOUT_S, '--json'],
        env,
      );
      expect({ code: login.code, stderr: login.stderr }).toMatchObject({ code: 0 });
      expect(JSON.parse(login.stdout)).toMatchObject({ method: 'cookies', identity: 'dana@example.com' });

      const whoami = await runCli(['request', '/api/whoami'], env);
      expect(whoami.code).toBe(0);
      expect(JSON.parse(whoami.stdout)).toMatchObject({ user: 'dana@example.com' });

      const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
      demo.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toContain('Stopping the demo stack');
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});

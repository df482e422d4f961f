/**
 * The core round trip, as a user runs it: the built CLI as a child process, against the oauth2-proxy
 * look-alike in front of the demo API, with $BROWSER set to a script that plays the browser.
 */
import { readdirSync, readFileSync, statSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';
import { cliEnv, makeTempHome, runCli, startCli, REPO_ROOT } from '../kit/cli-runner';

const execFileAsync = promisify(execFile);
const SCRIPTED_BROWSER = `${process.execPath} ${path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js')}`;

type Stack = LookalikeStack;
const startStack = startLookalikeStack;

async function stopStack(stack: Stack | undefined): Promise<void> {
  await stack?.close();
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(folder, entry.name)) : [path.join(folder, entry.name)],
  );
}

describe('api login → request → expiry, through the oauth2-proxy look-alike', () => {
  let stack: Stack | undefined;
  let temp: ReturnType<typeof makeTempHome>;

  beforeEach(async () => {
    temp = makeTempHome();
    stack = await startStack({ rotateOnEveryResponse: true, sessionPadding: 6000 });
  });
  afterEach(async () => {
    await stopStack(stack);
    temp.cleanup();
  });

  it('logs in through $BROWSER, replays the chunked cookies, saves rotated ones, and reports expiry', async () => {
    const endpoint = stack!.proxy.url;
    const env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER, SCRIPTED_BROWSER_EMAIL: 'alice@example.com' });

    const loginRun = await runCli(['api', 'login', '-e', endpoint, '--timeout', '30', '--debug'], env);
    expect(loginRun.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
    expect(loginRun.code).toBe(0);
    // detection saw the proxy, and said which rule fired
    expect(loginRun.stderr).toMatch(/rule [a-z-]+ fired/);
    // the sign-in URL is always printed
    expect(loginRun.stderr).toMatch(
      new RegExp(`${endpoint}/token\\?local_port=\\d+&state=[A-Za-z0-9_-]{43}`),
    );

    // the session was big enough to be split into chunks by the proxy: all of them are stored
    const home = path.join(temp.home, 'cookie-bridge');
    const jarFile = filesUnder(home).find((file) => file.endsWith('cookies.json'));
    expect(jarFile).toBeDefined();
    const jarText = readFileSync(jarFile!, 'utf8');
    expect(jarText).toContain('_oauth2_proxy_0');
    expect(jarText).toContain('_oauth2_proxy_1');
    expect(statSync(jarFile!).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(jarFile!)).mode & 0o777).toBe(0o700);
    // --debug never shows a cookie value
    for (const value of [...jarText.matchAll(/"value":\s*"([^"]{12,})"/g)].map((m) => m[1]!)) {
      expect(loginRun.stderr).not.toContain(value);
    }

    const whoami = await runCli(['request', '/api/whoami'], env);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ user: 'alice@example.com' });

    // the proxy rotated the session on that response: the jar holds the new value
    const jarAfter = readFileSync(jarFile!, 'utf8');
    expect(jarAfter).not.toEqual(jarText);
    expect(statSync(jarFile!).mode & 0o777).toBe(0o600);

    stack!.proxy.expireAllSessions();
    const expired = await runCli(['request', '/api/whoami'], env);
    expect(expired.code).toBe(4);
    expect(expired.stderr).toContain(`session expired: run cookie-bridge api login -e ${endpoint}`);
    expect(expired.stdout).not.toMatch(/<html/i);
  });

  it('accepts the bundle pasted into the terminal (--no-browser, e.g. over SSH)', async () => {
    const endpoint = stack!.proxy.url;
    const env = cliEnv(temp.home);
    const cli = startCli(['api', 'login', '-e', endpoint, '--no-browser', '--timeout', '30'], env, {
      stdin: 'pipe',
    });
    const [url] = await cli.waitForStderr(/http:\/\/\S+\/token\?\S+/);

    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cb-paste-')), 'bundle.txt');
    await execFileAsync(process.execPath, [path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js'), url], {
      env: {
        ...process.env,
        SCRIPTED_BROWSER_MODE: 'print-bundle',
        SCRIPTED_BROWSER_OUT: out,
        SCRIPTED_BROWSER_EMAIL: 'bob@example.com',
      },
    });
    const bundle = readFileSync(out, 'utf8').trim();
    expect(bundle.startsWith('cb1.')).toBe(true);
    cli.child.stdin.write(`${bundle}\n`);

    const result = await cli.result;
    expect(result.stderr).toContain(`Logged in to ${endpoint} as bob@example.com`);
    expect(result.code).toBe(0);

    const whoami = await runCli(['request', '/api/whoami'], env);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ user: 'bob@example.com' });
  });
});

describe('--cookies against a proxy that exempts /api/health', () => {
  let stack: Stack | undefined;
  let temp: ReturnType<typeof makeTempHome>;
  beforeEach(async () => {
    temp = makeTempHome();
    stack = await startStack({ skipAuthPaths: [/^\/api\/health$/] });
  });
  afterEach(async () => {
    await stopStack(stack);
    temp.cleanup();
  });

  it('detection alone cannot see the proxy; --cookies forces the browser flow and the API then answers', async () => {
    const endpoint = stack!.proxy.url;
    const env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER });

    const detected = await runCli(['api', 'login', '-e', endpoint, '--json'], env);
    expect(detected.code).toBe(0);
    expect(JSON.parse(detected.stdout)).toMatchObject({ method: 'none' });
    const refused = await runCli(['request', '/api/whoami'], env);
    expect(refused.code).toBe(4);

    const forced = await runCli(
      ['api', 'login', '-e', endpoint, '--cookies', '--json', '--timeout', '30'],
      env,
    );
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ method: 'cookies', reason: 'forced', via: 'browser' });
    const whoami = await runCli(['request', '/api/whoami'], env);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ user: 'alice@example.com' });
  });
});

/**
 * `cookie-bridge exec -- COMMAND` as the built CLI, after a real login through the oauth2-proxy look-alike:
 * the command reaches the API through $COOKIE_BRIDGE_URL, its exit code (or signal) is cookie-bridge's,
 * signals sent to cookie-bridge reach it, and the proxy is gone when it exits.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';
import { cliEnv, makeTempHome, REPO_ROOT, runCli, startCli } from '../kit/cli-runner';

const SCRIPTED_BROWSER = `${process.execPath} ${path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js')}`;

/** Prints what it finds in its environment and what /api/whoami answers through the proxy, as JSON. */
const REPORT_SCRIPT = `
const url = process.env.COOKIE_BRIDGE_URL;
const headers = process.env.COOKIE_BRIDGE_SECRET ? { 'x-cookie-bridge-secret': process.env.COOKIE_BRIDGE_SECRET } : {};
Promise.all([fetch(url + '/api/whoami'), fetch(url + '/api/whoami', { headers })]).then(async ([bare, sent]) => {
  process.stdout.write(JSON.stringify({
    url, endpoint: process.env.COOKIE_BRIDGE_ENDPOINT, secret: process.env.COOKIE_BRIDGE_SECRET ?? null,
    bareStatus: bare.status, status: sent.status, body: await sent.json(),
  }));
});`;

/**
 * Logs every signal it gets to the file in argv[1] and stderr. Ends on SIGTERM (exit 40 + SIGINTs seen),
 * SIGHUP (exit 41), on "done" typed on stdin (exit 50 + SIGINTs seen), and on SIGINT (exit 42) unless
 * argv[2] is "count".
 */
const SIGNAL_SCRIPT = `
const fs = require('node:fs');
const [log, mode] = process.argv.slice(1);
let ints = 0;
const note = (what) => { fs.appendFileSync(log, what + '\\n'); process.stderr.write('child: ' + what + '\\n'); };
process.on('SIGINT', () => { ints += 1; note('SIGINT ' + ints); if (mode !== 'count') process.exit(42); });
process.on('SIGTERM', () => { note('SIGTERM'); process.exit(40 + ints); });
process.on('SIGHUP', () => { note('SIGHUP'); process.exit(41); });
process.stdin.on('data', (data) => { if (String(data).includes('done')) { note('done'); process.exit(50 + ints); } });
process.stdin.on('error', () => {});
setInterval(() => {}, 1 << 30);
note('ready');`;

function jarText(home: string): string {
  const find = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? find(path.join(folder, entry.name)) : [path.join(folder, entry.name)],
    );
  const jar = find(path.join(home, 'cookie-bridge')).find((file) => file.endsWith('cookies.json'));
  if (jar === undefined) throw new Error('no cookie jar');
  return readFileSync(jar, 'utf8');
}

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('cookie-bridge exec', () => {
  let stack: LookalikeStack;
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  let logFile: string;

  beforeAll(async () => {
    temp = makeTempHome();
    stack = await startLookalikeStack({ rotateOnEveryResponse: true });
    env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER, SCRIPTED_BROWSER_EMAIL: 'alice@example.com' });
    const login = await runCli(['api', 'login', '-e', stack.url, '--timeout', '30'], env);
    expect(login.code).toBe(0);
  });
  afterAll(async () => {
    await stack.close();
    temp.cleanup();
  });
  beforeEach(() => {
    logFile = path.join(temp.home, `signals-${Date.now()}-${Math.random()}.log`);
  });
  const logged = (): string[] => readFileSync(logFile, 'utf8').trim().split('\n');

  it('runs the command with COOKIE_BRIDGE_URL/ENDPOINT, which reach the API; saves refreshed cookies; stops the proxy', async () => {
    const before = jarText(temp.home);
    const run = await runCli(['exec', '--', process.execPath, '-e', REPORT_SCRIPT], {
      ...env,
      COOKIE_BRIDGE_SECRET: 'left-over-from-outside',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const seen = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(seen).toMatchObject({
      endpoint: stack.url,
      secret: null,
      bareStatus: 200,
      status: 200,
      body: { user: 'alice@example.com' },
    });
    const url = String(seen.url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // the look-alike rotated the session on those responses: the new cookies are in the jar
    expect(jarText(temp.home)).not.toEqual(before);
    await expect(portIsClosed(Number(new URL(url).port))).resolves.toBe(true);
  });

  it("runs the README's example: curl through sh -c, the URL taken from the environment", async () => {
    const run = await runCli(['exec', '--', 'sh', '-c', 'curl -s "$COOKIE_BRIDGE_URL/api/whoami"'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ user: 'alice@example.com' });
  });

  it('lets the command reach COOKIE_BRIDGE_URL directly when a forward proxy is set in the environment', async () => {
    // nothing listens on port 9: a client that asked this "corporate proxy" for the URL would fail.
    // cookie-bridge honours the proxy variables too (its upstream hop): NO_PROXY names the endpoint by
    // host:port, which sends cookie-bridge's own requests direct but which curl never matches, so curl
    // reaches the local proxy directly only through the 127.0.0.1 that exec adds.
    const run = await runCli(['exec', '--', 'sh', '-c', 'curl -sS "$COOKIE_BRIDGE_URL/api/whoami"'], {
      ...env,
      http_proxy: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      NO_PROXY: new URL(stack.url).host,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ user: 'alice@example.com' });
  });

  it('with --secret, the command finds the secret in COOKIE_BRIDGE_SECRET, never on a command line', async () => {
    const run = await runCli(
      ['--debug', 'exec', '--secret', '--', process.execPath, '-e', REPORT_SCRIPT],
      env,
    );
    expect(run.code).toBe(0);
    const seen = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(seen.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(seen).toMatchObject({ bareStatus: 401, status: 200, body: { user: 'alice@example.com' } });
    // --debug shows the steps, never the secret
    expect(run.stderr).toContain('exec: http://127.0.0.1:');
    expect(run.stderr).not.toContain(String(seen.secret));
  });

  it.each([
    ['exit 0', 'process.exit(0)', 0],
    ['exit 3', 'process.exit(3)', 3],
    ['exit 42', 'process.exit(42)', 42],
    ['SIGKILL', "process.kill(process.pid, 'SIGKILL')", 128 + 9],
    ['SIGTERM', "process.kill(process.pid, 'SIGTERM')", 128 + 15],
  ])("passes the command's %s on as its exit code", async (_name, code, expected) => {
    const run = await runCli(['exec', '--', process.execPath, '-e', code], env);
    expect(run.code).toBe(expected);
    expect(run.signal).toBeNull();
  });

  it.each([
    ['SIGTERM', 40],
    ['SIGHUP', 41],
    ['SIGINT', 42],
  ] as const)('passes %s on to the command and waits for it (no terminal)', async (signal, expected) => {
    const cli = startCli(['exec', '--', process.execPath, '-e', SIGNAL_SCRIPT, logFile], env, {
      detached: true,
    });
    await cli.waitForStderr(/child: ready/);
    cli.child.kill(signal);
    const result = await cli.result;
    expect(logged()).toEqual(['ready', signal === 'SIGINT' ? 'SIGINT 1' : signal]);
    expect(result.code).toBe(expected);
  });

  it('in a terminal, Ctrl-C reaches the command once (from the terminal), not twice', async () => {
    const cli = startCli(
      ['--debug', 'exec', '--', process.execPath, '-e', SIGNAL_SCRIPT, logFile, 'count'],
      env,
      { terminal: true, stdin: 'pipe' },
    );
    await cli.waitForStderr(/child: ready/);
    cli.child.stdin.write('\x03');
    await cli.waitForStderr(/child: SIGINT 1/);
    // cookie-bridge got it too (same process group), and says what it did with it
    const [said] = await cli.waitForStderr(/SIGINT: (the terminal sent it to the command too|passing it on)/);
    cli.child.stdin.write('done\n');
    await cli.result; // its code is that of script's shell, which Ctrl-C reached too
    expect(logged()).toEqual(['ready', 'SIGINT 1', 'done']);
    expect(said).toContain('the terminal sent it to the command too');
  });

  it('exits 127 when the command does not exist, 126 when it cannot be run', async () => {
    const missing = await runCli(['exec', '--', 'cookie-bridge-no-such-command'], env);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain(
      '"cookie-bridge-no-such-command": command not found (not found in PATH)',
    );
    expect(missing.stderr).toMatch(/hint: .*sh -c/);

    const script = path.join(temp.home, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o644);
    const denied = await runCli(['exec', '--', script], env);
    expect(denied.code).toBe(126);
    expect(denied.stderr).toContain('cannot run the command');
  });

  it('when not logged in: the usual error (exit 3), and the command never runs', async () => {
    const marker = path.join(temp.home, 'ran');
    const run = await runCli(
      [
        'exec',
        '-e',
        'http://127.0.0.1:9',
        '--',
        process.execPath,
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`,
      ],
      env,
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('not logged in to http://127.0.0.1:9');
    expect(existsSync(marker)).toBe(false);
  });

  it('asks for a command', async () => {
    const run = await runCli(['exec'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("missing required argument 'command'");
  });
});

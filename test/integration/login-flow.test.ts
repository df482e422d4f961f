/**
 * The login flow in-process: real detection, listener, verification and store; the browser is the
 * scripted one and the terminal a PassThrough.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { encodeCookieBundle } from '../../src/protocol/bundle-codec';
import { LoginError, LoginNotVerifiedError, LoginTimeoutError } from '../../src/errors';
import {
  bundleFromTokenPage,
  cookiesOf,
  loginInProcess,
  recordingLogger,
  scriptedBrowserOpener,
  statelessBundle,
} from '../kit/in-process-login';
import { rawRequest } from '../kit/hostile-kit';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';
import { fakeContext } from '../kit/fake-context';

describe('login()', () => {
  let stack: LookalikeStack;
  let proxy: LookalikeStack['proxy'];
  let home: string;
  let store: FileCredentialStore;

  beforeEach(async () => {
    stack = await startLookalikeStack();
    proxy = stack.proxy;
    home = mkdtempSync(path.join(tmpdir(), 'cb-login-'));
    store = new FileCredentialStore({ home });
  });
  afterEach(async () => {
    await stack.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('detects oauth2-proxy and logs in through the browser', async () => {
    const result = await loginInProcess({ endpoint: proxy.url, timeoutSeconds: 20 }, { store });
    expect(result).toMatchObject({
      endpoint: proxy.url,
      method: 'cookies',
      identity: 'alice@example.com',
      proxy: 'oauth2-proxy',
      via: 'browser',
    });
    expect(await store.getLastEndpoint()).toBe(proxy.url);
    expect((await store.getProfile(proxy.url))?.auth).toEqual({ type: 'cookies' });
  });

  it('a bad paste is reported and the wait goes on; the good paste that follows logs in', async () => {
    const stdin = new PassThrough();
    let opened: string | undefined;
    const loggedIn = loginInProcess(
      { endpoint: proxy.url, timeoutSeconds: 20 },
      {
        store,
        stdin,
        openBrowser: async (url) => {
          opened = url;
          stdin.write('not-a-bundle\n');
          // Sign in like a browser would, then paste what the page shows.
          const out = path.join(home, 'bundle.txt');
          execFile(
            process.execPath,
            [path.join(__dirname, '..', 'kit', 'scripted-browser.js'), url],
            { env: { ...process.env, SCRIPTED_BROWSER_MODE: 'print-bundle', SCRIPTED_BROWSER_OUT: out } },
            () => {
              stdin.write(`${readFileSync(out, 'utf8').trim()}\n`);
            },
          );
        },
      },
    );
    const result = await loggedIn;
    expect(opened).toMatch(/\/token\?local_port=\d+&state=/);
    expect(result).toMatchObject({ method: 'cookies', via: 'paste', identity: 'alice@example.com' });
  });

  it('times out with a typed error and stores nothing (the time-out is on the injected timers)', async () => {
    const context = fakeContext();
    const attempt = loginInProcess(
      { endpoint: proxy.url, timeoutSeconds: 120 },
      { store, openBrowser: async () => undefined, context },
    );
    const timeout = await context.timers.next();
    expect(timeout.ms).toBe(120_000);
    timeout.fire();
    await expect(attempt).rejects.toBeInstanceOf(LoginTimeoutError);
    await expect(attempt).rejects.toMatchObject({ code: 'E_LOGIN_TIMEOUT', exitCode: 6 });
    expect(timeout.cancelled).toBe(true);
    expect(await store.listProfiles()).toEqual([]);
  });

  it('cookies the proxy does not accept are refused at verification, and nothing is stored', async () => {
    const stdin = new PassThrough();
    const forged = encodeCookieBundle({
      cookies: [{ name: '_oauth2_proxy', value: 'forged-session-value' }],
    });
    const attempt = loginInProcess(
      { endpoint: proxy.url, timeoutSeconds: 20 },
      { store, stdin, openBrowser: async () => void stdin.write(`${forged}\n`) },
    );
    await expect(attempt).rejects.toBeInstanceOf(LoginNotVerifiedError);
    expect(await store.listProfiles()).toEqual([]);
    expect(readdirSync(home).filter((f) => f === 'endpoints')).toEqual([]);
  });

  it('an API without /api/health suggests --cookies rather than a token', async () => {
    const server: Server = createServer((_req, res) => {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end('{"error":"not found"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const error = await loginInProcess({ endpoint: url, timeoutSeconds: 5 }, { store }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LoginError);
      expect((error as LoginError).code).toBe('E_LOGIN_NO_HEALTH');
      expect((error as LoginError).hint).toContain('--cookies');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe("a bundle without state at the loopback listener (SkyPilot's older /token pages)", () => {
    /** Posts a bare bundle to `/` like an older page's no-cors fetch, with the endpoint's Origin. */
    const postStateless = async (tokenUrl: string, body: string): Promise<number | undefined> => {
      const port = Number(new URL(tokenUrl).searchParams.get('local_port'));
      const answer = await rawRequest(port, {
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: new URL(proxy.url).origin },
        body,
      });
      return answer.status;
    };
    const terminal = (): PassThrough & { isTTY: boolean } =>
      Object.assign(new PassThrough(), { isTTY: true });
    const STATELESS_WARNING =
      /^warn: a bundle without state arrived from http:\/\/127\.0\.0\.1:\d+; .*--accept-stateless/;

    it('stdin not a terminal: refused, one warning however many arrive, and the real hand-off logs in', async () => {
      const logger = recordingLogger();
      const browser = scriptedBrowserOpener();
      const answers: Array<number | undefined> = [];
      const result = await loginInProcess(
        { endpoint: proxy.url, timeoutSeconds: 20 },
        {
          store,
          logger,
          stdin: new PassThrough(), // a pipe that stays open: nothing pasted
          openBrowser: async (url) => {
            const forged = statelessBundle({ _oauth2_proxy: 'FORGED-stateless' }, 'mallory@example.com');
            for (let i = 0; i < 3; i += 1) answers.push(await postStateless(url, forged));
            await browser.open(url);
          },
        },
      );
      await browser.done();
      expect(answers).toEqual([403, 403, 403]);
      expect(logger.lines.filter((line) => STATELESS_WARNING.test(line))).toHaveLength(1);
      expect(logger.lines.join('\n')).not.toMatch(/Take it\?/);
      expect(result).toMatchObject({ via: 'browser', identity: 'alice@example.com' });
      expect(await store.getCookieHeader(proxy.url, new URL(proxy.url))).not.toContain('FORGED');
    });

    it('stdin a terminal: shows what arrived, "y" takes it, and the identity is the server\'s, not the bundle\'s claim', async () => {
      const logger = recordingLogger();
      const stdin = terminal();
      let answer: number | undefined;
      const result = await loginInProcess(
        { endpoint: proxy.url, timeoutSeconds: 20 },
        {
          store,
          logger,
          stdin,
          openBrowser: async (url) => {
            const real = cookiesOf(await bundleFromTokenPage(url));
            answer = await postStateless(url, statelessBundle(real, 'ceo@corp.example'));
            stdin.write('y\n');
          },
        },
      );
      expect(answer).toBe(403); // the HTTP answer is a refusal; the person's "y" is what takes it
      const question = logger.lines.find((line) => line.includes('Take it?'));
      expect(question).toContain(`arrived from ${new URL(proxy.url).origin}`);
      expect(question).toContain('cookies:      _oauth2_proxy');
      expect(question).toContain('claims to be: ceo@corp.example');
      expect(result).toMatchObject({ via: 'browser', identity: 'alice@example.com' });
      expect((await store.getProfile(proxy.url))?.identity).toBe('alice@example.com');
    });

    it('stdin a terminal: "n" refuses, nothing else is asked, and a paste of a stateless bundle is taken', async () => {
      const logger = recordingLogger();
      const stdin = terminal();
      const result = await loginInProcess(
        { endpoint: proxy.url, timeoutSeconds: 20 },
        {
          store,
          logger,
          stdin,
          openBrowser: async (url) => {
            const real = cookiesOf(await bundleFromTokenPage(url));
            await postStateless(url, statelessBundle({ _oauth2_proxy: 'FORGED-stateless' }, 'x@example.com'));
            stdin.write('n\n');
            await postStateless(url, statelessBundle({ _oauth2_proxy: 'FORGED-again' }, 'y@example.com'));
            // Pasted by the person: theirs by that act, without state and without --accept-stateless.
            stdin.write(`${statelessBundle(real)}\n`);
          },
        },
      );
      expect(logger.lines.filter((line) => line.includes('Take it?'))).toHaveLength(1);
      expect(logger.lines.join('\n')).toMatch(/Refused; still waiting/);
      expect(result).toMatchObject({ via: 'paste', identity: 'alice@example.com' });
      expect(await store.getCookieHeader(proxy.url, new URL(proxy.url))).not.toContain('FORGED');
    });

    it('acceptStateless (--accept-stateless): taken without asking', async () => {
      const logger = recordingLogger();
      let answer: number | undefined;
      const result = await loginInProcess(
        { endpoint: proxy.url, timeoutSeconds: 20, acceptStateless: true },
        {
          store,
          logger,
          stdin: terminal(),
          openBrowser: async (url) => {
            answer = await postStateless(url, statelessBundle(cookiesOf(await bundleFromTokenPage(url))));
          },
        },
      );
      expect(answer).toBe(200);
      expect(logger.lines.join('\n')).not.toMatch(/Take it\?|without state arrived/);
      expect(result).toMatchObject({ via: 'browser', identity: 'alice@example.com' });
    });
  });
});

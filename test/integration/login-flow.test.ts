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
import { FileCredentialStore } from '../../src/core/file-credential-store';
import { encodeCookieBundle } from '../../src/core/bundle-codec';
import { LoginError, LoginNotVerifiedError, LoginTimeoutError } from '../../src/errors';
import { loginInProcess } from '../kit/in-process-login';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';

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

  it('times out with a typed error and stores nothing', async () => {
    await expect(
      loginInProcess(
        { endpoint: proxy.url, timeoutSeconds: 0.3 },
        { store, openBrowser: async () => undefined },
      ),
    ).rejects.toBeInstanceOf(LoginTimeoutError);
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
});

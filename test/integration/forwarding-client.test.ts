/**
 * The forwarding client (the Node SDK) against the oauth2-proxy look-alike in front of the demo API,
 * with a real on-disk store in a temp folder. The login itself is the real flow, in-process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { createClient } from '../../src/sdk/create-client';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { NotLoggedInError, SessionExpiredError } from '../../src/errors';
import { loginInProcess, recordingLogger } from '../kit/in-process-login';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';

describe('createClient / forwarding client', () => {
  let stack: LookalikeStack;
  let proxy: LookalikeStack['proxy'];
  let home: string;
  let store: FileCredentialStore;

  beforeEach(async () => {
    stack = await startLookalikeStack({ rotateOnEveryResponse: true });
    proxy = stack.proxy;
    home = mkdtempSync(path.join(tmpdir(), 'cb-client-'));
    store = new FileCredentialStore({ home });
    await loginInProcess({ endpoint: proxy.url, timeoutSeconds: 20 }, { store });
  });
  afterEach(async () => {
    await stack.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('replays the jar, and saves the rotated session the server sets', async () => {
    const client = await createClient({ endpoint: proxy.url, store, env: {} });
    expect(client.credentialSource).toBe('cookie-jar');
    const before = await store.getCookieHeader(proxy.url, new URL(`${proxy.url}/`));
    const response = await client.fetch('/api/whoami');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: 'alice@example.com' });
    const after = await store.getCookieHeader(proxy.url, new URL(`${proxy.url}/`));
    expect(after).toBeDefined();
    expect(after).not.toEqual(before);
    // and the rotated value works
    const again = await client.fetch('/api/whoami');
    expect(again.status).toBe(200);
    await again.text();
  });

  it('uses the last endpoint when none is given, and sends bodies', async () => {
    const client = await createClient({ store, env: {} });
    expect(client.endpoint).toBe(proxy.url);
    const response = await client.fetch('/api/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(await response.json()).toMatchObject({
      method: 'POST',
      body: { hello: 'world' },
      user: 'alice@example.com',
    });
  });

  it('streams a large binary body without changing a byte', async () => {
    const client = await createClient({ endpoint: proxy.url, store, env: {} });
    const size = 8 * 1024 * 1024 + 13;
    const response = await client.fetch(`/api/bytes?size=${size}`);
    let seen = 0;
    let mismatch = -1;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      for (let i = 0; i < chunk.length; i += 1) {
        if (mismatch === -1 && chunk[i] !== (seen + i) % 256) mismatch = seen + i;
      }
      seen += chunk.length;
    }
    expect(seen).toBe(size);
    expect(mismatch).toBe(-1);
  });

  it("passes the API's own errors through: a 404 JSON is an answer, not an expired session", async () => {
    const client = await createClient({ endpoint: proxy.url, store, env: {} });
    const response = await client.fetch('/api/status/404');
    expect(response.status).toBe(404);
    expect(response.ok).toBe(false);
    await response.text();
  });

  it('rejects with a typed SessionExpiredError once the proxy dropped the session', async () => {
    const client = await createClient({ endpoint: proxy.url, store, env: {} });
    proxy.expireAllSessions();
    await expect(client.fetch('/api/whoami')).rejects.toBeInstanceOf(SessionExpiredError);
    // also for a browser-like request that gets the 302 to the sign-in
    await expect(client.fetch('/api/whoami', { headers: { accept: 'text/html' } })).rejects.toThrow(
      `session expired: run cookie-bridge api login -e ${proxy.url}`,
    );
  });

  it('hands the answer over when the rotated session cannot be saved, and warns without the value', async () => {
    // One save-back rule for the SDK and the local proxy (http/save-set-cookies.ts): the server has acted
    // on the request already, so any failure to save is a warning, never a lost answer.
    const failing = new Proxy(store, {
      get: (target, name) =>
        name === 'applySetCookies'
          ? () => Promise.reject(new Error('the disk is on fire'))
          : (Reflect.get(target, name) as unknown),
    });
    const logger = recordingLogger();
    const client = await createClient({ endpoint: proxy.url, store: failing, env: {}, logger });
    const response = await client.fetch('/api/whoami');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: 'alice@example.com' });
    const warning = logger.lines.find((line) => line.includes('could not be saved'));
    expect(warning).toMatch(/_oauth2_proxy\S*=<redacted>.*the disk is on fire/);
  });

  it('debug lines: built (redacted) for a logger that shows them, never for one with debugEnabled false', async () => {
    const shown = recordingLogger();
    const shownClient = await createClient({ endpoint: proxy.url, store, env: {}, logger: shown });
    await (await shownClient.fetch('/api/whoami?access_token=abc')).text();
    const request = shown.lines.find((line) => line.startsWith('debug: > GET'));
    expect(request).toContain('/api/whoami?access_token=redacted');
    expect(request).not.toContain('abc');
    expect(request).toMatch(/cookie: _oauth2_proxy\S*=<redacted>/);
    expect(shown.lines.some((line) => line.startsWith('debug: < 200'))).toBe(true);

    // The CLI without --debug: the per-request lines (a URL and every header redacted) are not even built.
    const hidden = { ...recordingLogger(), debugEnabled: false };
    const built: string[] = [];
    const hiddenClient = await createClient({
      endpoint: proxy.url,
      store,
      env: {},
      logger: { ...hidden, debug: (message: string) => built.push(message) },
    });
    const response = await hiddenClient.fetch('/api/whoami');
    expect(response.status).toBe(200);
    await response.text();
    expect(built.filter((line) => line.startsWith('> ') || line.startsWith('< '))).toEqual([]);
  });

  it('writeBodyTo: no body byte reaches the sink before the rotated session is saved (its lock released)', async () => {
    // A reader that stops at the first byte (or a kill then) must find the jar saved and unlocked.
    let releaseSave = (): void => undefined;
    const saveGate = new Promise<void>((resolve) => (releaseSave = resolve));
    let saved = false;
    let bytesBeforeSave = 0;
    let bytes = 0;
    const gated = new Proxy(store, {
      get: (target, name) =>
        name === 'applySetCookies'
          ? async (...args: Parameters<FileCredentialStore['applySetCookies']>) => {
              await saveGate;
              await target.applySetCookies(...args);
              saved = true;
            }
          : (Reflect.get(target, name) as unknown),
    });
    const client = await createClient({ endpoint: proxy.url, store: gated, env: {} });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!saved) bytesBeforeSave += chunk.length;
        bytes += chunk.length;
        callback();
      },
    });
    const size = 4 * 1024 * 1024;
    const fetching = client.fetch(`/api/bytes?size=${size}`, { writeBodyTo: () => sink });
    // Let the response head and the first body bytes arrive while the save is held.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bytes).toBe(0);
    releaseSave();
    const response = await fetching;
    await response.finished;
    expect(saved).toBe(true);
    expect(bytesBeforeSave).toBe(0);
    expect(bytes).toBe(size);
  });

  it('$COOKIE_BRIDGE_TOKEN wins over the jar', async () => {
    const client = await createClient({ endpoint: proxy.url, store, env: { COOKIE_BRIDGE_TOKEN: 't' } });
    expect(client.credentialSource).toBe('environment-token');
  });

  it('an endpoint never logged in to is NotLoggedInError', async () => {
    await expect(createClient({ endpoint: 'http://127.0.0.1:9', store, env: {} })).rejects.toBeInstanceOf(
      NotLoggedInError,
    );
  });
});

/**
 * The forwarding client inspects suspicious answers (401/403, redirects, HTML) to tell the proxy's login page
 * from the API's own answer. When the user asks for compression (-H 'Accept-Encoding: gzip'), the inspected
 * head must be decompressed first, or a compressed JSON error would look like a login page and vice versa.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createForwardingClient } from '../../src/sdk/forwarding-client';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { SessionExpiredError } from '../../src/errors';

describe('forwarding client and compressed answers', () => {
  let server: Server;
  let endpoint: string;
  let home: string;
  let store: FileCredentialStore;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const gzip = /gzip/.test(req.headers['accept-encoding'] ?? '');
      const send = (status: number, type: string, body: string, extra: Record<string, string> = {}): void => {
        res.writeHead(status, {
          'content-type': type,
          ...extra,
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(gzip ? gzipSync(body) : body);
      };
      if (req.url === '/api/own-error')
        send(401, 'application/json', JSON.stringify({ error: 'token scope' }));
      // The proxy's sign-in page behind a Bearer challenge: only the page itself (its /oauth2/ form) says
      // it is the proxy and not the API's own authentication, so the body must be read decompressed.
      else
        send(401, 'text/html', '<html><body><form action="/oauth2/sign_in">Sign in</form></body></html>', {
          'www-authenticate': 'Bearer',
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    home = mkdtempSync(path.join(tmpdir(), 'cb-encoding-'));
    store = new FileCredentialStore({ home });
    await store.saveLogin({
      endpoint,
      auth: { type: 'token', token: 't' },
      loggedInAt: new Date(0).toISOString(),
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(home, { recursive: true, force: true });
  });

  it("passes the API's own gzip-compressed JSON 401 through", async () => {
    const client = await createForwardingClient({ endpoint, store, env: {} });
    const response = await client.fetch('/api/own-error', { headers: { 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(401);
    expect(response.headers['content-encoding']).toBe('gzip');
    await response.buffer();
  });

  it("recognises the proxy's gzip-compressed HTML 401 as an expired session", async () => {
    const client = await createForwardingClient({ endpoint, store, env: {} });
    await expect(client.fetch('/api/x', { headers: { 'accept-encoding': 'gzip' } })).rejects.toBeInstanceOf(
      SessionExpiredError,
    );
  });
});

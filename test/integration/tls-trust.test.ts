/**
 * The HTTP client's TLS trust (src/http/tls-options.ts) against throwaway node:https servers on 127.0.0.1 whose
 * certificates come from test CAs made with openssl: a private CA given as `ca`, --cacert or
 * $COOKIE_BRIDGE_CA_BUNDLE, or stored for the endpoint, is trusted beside Node's own roots (never instead of
 * them), by one-off requests and by the local proxy's origin pool alike; without it the failure is TlsError.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Pool } from 'undici';
import { createTestCa, REAL_COMPONENT_PATHS, requireComponent, type TestCa } from '../kit/real-components';
import { createHttpClient, readResponseText } from '../../src/http/http-request';
import { createTlsTrust, describeCaPem, readCaFile } from '../../src/http/tls-options';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { storedCaForOrigin } from '../../src/store/stored-ca';
import { TlsError, UsageError } from '../../src/errors';

const describeWithOpenssl = requireComponent('openssl', REAL_COMPONENT_PATHS.openssl)
  ? describe
  : describe.skip;

describeWithOpenssl('TLS trust of the one HTTP client', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let server: https.Server;
  let origin: string;
  let dir: string;

  beforeAll(async () => {
    ca = createTestCa('tls-trust-ca');
    otherCa = createTestCa('tls-trust-other');
    const issued = ca.issue();
    server = https.createServer(
      { cert: readFileSync(issued.certFile), key: readFileSync(issued.keyFile) },
      (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello ${req.headers.cookie ?? 'nobody'}`);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(tmpdir(), 'cookie-bridge-tls-'));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    ca.remove();
    otherCa.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (client: ReturnType<typeof createHttpClient>): Promise<string> =>
    readResponseText(await client.request(new URL(`${origin}/x`)));

  it('refuses the private CA by default: TlsError naming the endpoint and --cacert', async () => {
    const client = createHttpClient({ tls: createTlsTrust({ env: {} }) });
    const error = (await client.request(new URL(`${origin}/x`)).catch((e: unknown) => e)) as TlsError;
    expect(error).toBeInstanceOf(TlsError);
    expect(error.message).toBe(
      `cannot reach ${origin}: TLS: the server's certificate is signed by a CA this machine does not trust`,
    );
    expect(error.hint).toContain('--cacert FILE');
  });

  it('trusts it given as `ca`, as --cacert, as $COOKIE_BRIDGE_CA_BUNDLE, or stored for the origin', async () => {
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, ca.caPem);
    expect(await get(createHttpClient({ tls: createTlsTrust({ env: {}, ca: ca.caPem }) }))).toBe(
      'hello nobody',
    );
    expect(await get(createHttpClient({ tls: createTlsTrust({ env: {}, cacertFile: caFile }) }))).toBe(
      'hello nobody',
    );
    expect(
      await get(createHttpClient({ tls: createTlsTrust({ env: { COOKIE_BRIDGE_CA_BUNDLE: caFile } }) })),
    ).toBe('hello nobody');
    const stored = createTlsTrust({
      env: {},
      storedCaFor: async (asked) => (asked === origin ? ca.caPem : undefined),
    });
    expect(await get(createHttpClient({ tls: stored }))).toBe('hello nobody');
  });

  it("another CA is not enough, and a list always keeps Node's roots and NODE_EXTRA_CA_CERTS", async () => {
    const otherFile = path.join(dir, 'other.pem');
    writeFileSync(otherFile, otherCa.caPem);
    const other = createTlsTrust({ env: {}, cacertFile: otherFile });
    await expect(get(createHttpClient({ tls: other }))).rejects.toBeInstanceOf(TlsError);
    // NODE_EXTRA_CA_CERTS beside the other CA: the union is trusted (`ca` replaces Node's defaults otherwise).
    const caFile = path.join(dir, 'extra.pem');
    writeFileSync(caFile, ca.caPem);
    const union = createTlsTrust({ env: { NODE_EXTRA_CA_CERTS: caFile }, cacertFile: otherFile });
    expect(await get(createHttpClient({ tls: union }))).toBe('hello nobody');
    const list = await union.caListWith([otherCa.caPem]);
    expect(list.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    expect(list.slice(rootCertificates.length).map((pem) => pem.trim())).toEqual([
      ca.caPem.trim(),
      otherCa.caPem.trim(),
    ]);
  });

  it("the local proxy's origin pool trusts the same CAs", async () => {
    const client = createHttpClient({ tls: createTlsTrust({ env: {}, ca: ca.caPem }) });
    // No proxy variable: the origin pool is an undici Pool (through a forward proxy it would be ProxyAgents).
    const pool = client.originPool(origin) as Pool;
    try {
      const response = await pool.request({ path: '/pool', method: 'GET' });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('hello nobody');
    } finally {
      await pool.close();
    }
    const untrusted = createHttpClient({ tls: createTlsTrust({ env: {} }) }).originPool(origin) as Pool;
    try {
      await expect(untrusted.request({ path: '/pool', method: 'GET' })).rejects.toMatchObject({
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    } finally {
      await untrusted.close();
    }
  });

  it('a CA file that is missing or holds no certificate is a UsageError naming it', async () => {
    const empty = path.join(dir, 'empty.pem');
    writeFileSync(empty, 'not a certificate\n');
    await expect(readCaFile(empty, '--cacert')).rejects.toThrow(
      `--cacert: ${empty} holds no PEM certificate`,
    );
    await expect(readCaFile(path.join(dir, 'missing.pem'), '--cacert')).rejects.toBeInstanceOf(UsageError);
    // Met when connecting, it reaches the caller unchanged (not as "cannot reach").
    const client = createHttpClient({ tls: createTlsTrust({ env: {}, cacertFile: empty }) });
    await expect(get(client)).rejects.toBeInstanceOf(UsageError);
  });

  it('the store keeps the PEM per endpoint, finds it by origin, and describes it without secrets', async () => {
    const home = path.join(dir, 'home');
    const store = new FileCredentialStore({ home });
    await store.saveLogin(
      { endpoint: `${origin}/team`, auth: { type: 'cookies' }, loggedInAt: 'now', ca: ca.caPem },
      [{ name: 'session', value: 's3cret' }],
    );
    expect((await store.getProfile(`${origin}/team`))?.ca).toBe(ca.caPem);
    expect(await storedCaForOrigin(store, origin)).toBe(ca.caPem);
    expect(await storedCaForOrigin(store, 'https://127.0.0.1:1')).toBeUndefined();
    // The jar's Secure cookies go to the https origin only: not to http:// on the same host and port.
    expect(await store.getCookieHeader(`${origin}/team`, new URL(`${origin}/team/x`))).toBe('session=s3cret');
    const plain = new URL(`${origin}/team/x`);
    plain.protocol = 'http:';
    expect(await store.getCookieHeader(`${origin}/team`, plain)).toBeUndefined();
    expect(describeCaPem(ca.caPem)).toEqual([
      expect.objectContaining({ subject: 'CN=cookie-bridge tls-trust-ca' }),
    ]);
  });
});

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import {
  createTestCa,
  launchChromium,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  type TestCa,
} from '../kit/real-components';

// The test kit's private CA (fixtures/real-components/test-ca.ts), proven with node's own TLS stack: a client that
// trusts the CA accepts its certificate; one that does not, or one given an expired certificate, refuses.
let ca: TestCa;
beforeAll(() => {
  ca = createTestCa();
});
afterAll(() => ca.remove());

async function serveWith(certFile: string, keyFile: string): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_req, res) =>
    res.end('ok'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: '/', ...(ca === undefined ? {} : { ca }) },
      (res) => {
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('a certificate from the test CA is trusted with the CA file and refused without it', async () => {
  const issued = ca.issue();
  const { server, port } = await serveWith(issued.certFile, issued.keyFile);
  try {
    await expect(get(port, ca.caPem)).resolves.toBe('ok');
    await expect(get(port, undefined)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  } finally {
    server.close();
  }
});

test('an expired certificate is refused even with the CA', async () => {
  const issued = ca.issue({ expired: true });
  const { server, port } = await serveWith(issued.certFile, issued.keyFile);
  try {
    await expect(get(port, ca.caPem)).rejects.toMatchObject({ code: 'CERT_HAS_EXPIRED' });
  } finally {
    server.close();
  }
});

test('a certificate for another name is refused', async () => {
  const issued = ca.issue({ names: ['other.invalid'] });
  const { server, port } = await serveWith(issued.certFile, issued.keyFile);
  try {
    await expect(get(port, ca.caPem)).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  } finally {
    server.close();
  }
});

describe('Chromium and the test CA', () => {
  const available = realComponentsAvailable();
  (available ? test : test.skip)(
    'Chromium accepts a test-CA server certificate it is told to trust, and only that one',
    async () => {
      const issued = ca.issue();
      const { server, port } = await serveWith(issued.certFile, issued.keyFile);
      const trusting = await launchChromium({ trustCertFiles: [issued.certFile] });
      const plain = await launchChromium();
      try {
        const page = await trusting.context.newPage();
        const response = await page.goto(`https://127.0.0.1:${port}/`);
        expect(response?.status()).toBe(200);
        expect(await page.textContent('body')).toBe('ok');
        const refused = await plain.context.newPage();
        await expect(refused.goto(`https://127.0.0.1:${port}/`)).rejects.toThrow(
          /ERR_CERT_AUTHORITY_INVALID/,
        );
      } finally {
        await trusting.close();
        await plain.close();
        server.close();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});

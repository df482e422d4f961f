/**
 * Issue 13's admin page in real Chromium (headless, Debian's, playwright-core): createServeApp with the test
 * kit's AccountService on 127.0.0.1:0, the browser standing in for a signed-in admin behind the proxy (it
 * sends the identity header, which serve believes from loopback). The page's own script runs under its CSP
 * (no violation), an identity with markup in it shows as text and runs nothing, a token created on the page is
 * shown once (and verifies), the copy button copies it, and after a reload it is nowhere on the page.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { createServeApp } from '../../src/server/create-serve-app';
import { createMemoryAccountService, type MemoryAccountService } from '../kit/memory-account-service';
import {
  launchChromium,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_SETUP_TIMEOUT_MS,
  type LaunchedChromium,
} from '../kit/real-components';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';

const describeReal = realComponentsAvailable() ? describe : describe.skip;

const ADMIN = 'admin@example.com';
const EVIL = '<img src=x onerror="window.__pwned=1">@example.com';

describeReal('the admin page in Chromium', () => {
  let app: RecordingApp;
  let accounts: MemoryAccountService;
  let server: http.Server;
  let origin: string;
  let chromium: LaunchedChromium;
  let page: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    app = await startRecordingApp();
    accounts = createMemoryAccountService({
      issuer: 'http://127.0.0.1/cookie-bridge/sa',
      admins: [ADMIN],
      now: () => Date.UTC(2026, 11, 2, 12, 0, 0),
    });
    await accounts.roleOf(EVIL);
    const { app: serveApp } = createServeApp({ upstream: app.url, accounts, admins: [ADMIN] });
    server = http.createServer(serveApp);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    chromium = await launchChromium();
    await chromium.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    await chromium.context.setExtraHTTPHeaders({ 'X-Auth-Request-Email': ADMIN });
    page = await chromium.context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await chromium?.close();
    await new Promise<void>((resolve) => {
      server?.close(() => resolve());
      server?.closeAllConnections();
    });
    await app?.close();
  });

  it(
    'creates a token on the page, shows it once, copies it, and never again',
    async () => {
      await page.goto(`${origin}/cookie-bridge/admin/`);
      await page.waitForSelector('body[data-loaded="true"]');
      expect(cspViolations).toEqual([]);

      // The identity with markup is a row of text; its onerror never ran.
      const identities = await page.locator('#users-body tr td:first-child').allTextContents();
      expect(identities).toEqual(expect.arrayContaining([EVIL, ADMIN]));
      expect(await page.locator('#users-body img').count()).toBe(0);
      expect(
        await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
      ).toBeUndefined();

      await page.fill('#create-name', 'page-robot');
      await page.selectOption('#create-role', 'user');
      await page.fill('#create-days', '7');
      await page.click('#create button[type=submit]');
      await page.waitForSelector('#token-box:not([hidden])');
      const token = await page.inputValue('#token');
      expect(await page.textContent('#token-box')).toContain('save it now: it will not be shown again');
      const verdict = await accounts.verifyBearer(token);
      expect(verdict).toMatchObject({
        ok: true,
        identity: 'page-robot@service-accounts.invalid',
        role: 'user',
      });
      await page.waitForSelector('#accounts-body tr[data-name="page-robot"]');

      await page.click('#copy');
      await page.waitForSelector('#copied:has-text("Copied.")');
      expect(
        await page.evaluate(() =>
          (
            globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
          ).navigator.clipboard.readText(),
        ),
      ).toBe(token);

      await page.reload();
      await page.waitForSelector('body[data-loaded="true"]');
      expect(await page.content()).not.toContain(token);
      expect(await page.inputValue('#token')).toBe('');
      expect(await page.locator('#accounts-body tr[data-name="page-robot"] td').allTextContents()).toEqual(
        expect.arrayContaining(['page-robot', 'user', 'active']),
      );

      // Revoke from the page: the token is refused at once.
      await page.click('#accounts-body tr[data-name="page-robot"] button');
      await page.waitForSelector('#accounts-body tr[data-name="page-robot"] td:has-text("revoked")');
      expect(await accounts.verifyBearer(token)).toEqual({ ok: false, reason: 'revoked' });
      expect(cspViolations).toEqual([]);
      expect(app.log).toEqual([]);
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});

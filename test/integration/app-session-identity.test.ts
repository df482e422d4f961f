/**
 * The server half inside an app that signs people in itself (express-openid-connect, passport): the identity
 * comes from the app's session through `resolveIdentity`, never from a header anyone could send, and /token
 * hands over the app's session cookie (`sessionCookies`, with express-openid-connect's dotted chunks) and
 * nothing else. The app's sign-in is stood in for by a middleware that sets `req.user` as passport does; the
 * real express-openid-connect runs in test/e2e/oidc-app-login.test.ts.
 */
import express from 'express';
import request from 'supertest';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import { createApp } from '../../src/server/create-app';
import { createHealthRouter } from '../../src/server/health-route';
import type { ResolveIdentity } from '../../src/server/identity';
import { createTokenRouter } from '../../src/server/token-route';

/** Who each session id belongs to, as the app's own session store would say. */
const SESSIONS: Record<string, { email?: unknown }> = {
  s1: { email: 'ada@example.com' },
  padded: { email: '  ada@example.com  ' },
  placeholder: { email: '(null)' },
  blank: { email: '   ' },
  control: { email: 'ada@example.com\r\nX-Evil: 1' },
  long: { email: `${'a'.repeat(510)}@x.io` },
  number: { email: 42 },
  none: {},
};

/** passport's shape: a middleware puts the signed-in user on req.user (here from the `appSession` cookie). */
function fakeSignIn(req: express.Request, _res: express.Response, next: express.NextFunction): void {
  const sid = /(?:^|;\s*)appSession=([^;]*)/.exec(req.headers.cookie ?? '')?.[1];
  (req as express.Request & { user?: unknown }).user = sid === undefined ? undefined : SESSIONS[sid];
  next();
}

const resolveIdentity: ResolveIdentity = (req) =>
  (req as express.Request & { user?: { email?: string } }).user?.email;

function appWithRouters(): express.Express {
  const app = express();
  app.use(fakeSignIn);
  app.use(createTokenRouter({ resolveIdentity, sessionCookies: ['appSession'] }));
  app.use(createHealthRouter({ resolveIdentity }));
  return app;
}

function bundleFromPage(html: string): string {
  const match = /<textarea id="bundle" readonly[^>]*>([^<]*)<\/textarea>/.exec(html);
  if (match?.[1] === undefined) throw new Error('no bundle textarea on the page');
  return match[1];
}

describe.each([
  ['createTokenRouter + createHealthRouter', appWithRouters],
  [
    'createApp',
    (): express.Express => {
      const app = express();
      app.use(fakeSignIn);
      app.use(createApp({ resolveIdentity, sessionCookies: ['appSession'] }));
      return app;
    },
  ],
])('with resolveIdentity (%s)', (_name, makeApp) => {
  const app = makeApp();

  it("/api/health names the app's signed-in user", async () => {
    const res = await request(app).get('/api/health').set('Cookie', 'appSession=s1');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', user: 'ada@example.com' });
  });

  it('never believes the identity header: without a proxy in front, anyone can send it', async () => {
    const forged = await request(app).get('/api/health').set('X-Auth-Request-Email', 'mallory@example.com');
    expect(forged.body).toEqual({ status: 'ok', user: null });
    const both = await request(app)
      .get('/api/health')
      .set('Cookie', 'appSession=s1')
      .set('X-Auth-Request-Email', 'mallory@example.com');
    expect(both.body).toEqual({ status: 'ok', user: 'ada@example.com' });
    const page = await request(app)
      .get('/token')
      .set('Cookie', 'appSession=none')
      .set('X-Auth-Request-Email', 'mallory@example.com');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('mallory');
    expect(decodeCookieBundle(bundleFromPage(page.text)).user).toBeUndefined();
  });

  it.each([
    ['padded', 'ada@example.com'],
    ['placeholder', null],
    ['blank', null],
    ['control', null],
    ['long', null],
    ['number', null],
    ['none', null],
  ])('the identity rules apply to what it returns: session %s → %p', async (sid, user) => {
    const res = await request(app).get('/api/health').set('Cookie', `appSession=${sid}`);
    expect(res.body).toEqual({ status: 'ok', user });
  });

  it("/token hands over the app's session cookie and its dotted chunks, with the app's user; not the IdP's or others'", async () => {
    const res = await request(app)
      .get('/token')
      .set(
        'Cookie',
        'appSession=s1; appSession.0=c0; appSession.1=c1; auth_verification=t; _session=idp; _session.sig=idp; theme=dark',
      );
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('all-cookies-notice');
    const bundle = decodeCookieBundle(bundleFromPage(res.text));
    expect(bundle.cookies.map((cookie) => cookie.name)).toEqual([
      'appSession',
      'appSession.0',
      'appSession.1',
    ]);
    expect(bundle.user).toBe('ada@example.com');
  });
});

it('without resolveIdentity the header is still what names the user (the auth-proxy shape)', async () => {
  const app = express();
  app.use(fakeSignIn);
  app.use(createHealthRouter());
  const res = await request(app)
    .get('/api/health')
    .set('Cookie', 'appSession=s1')
    .set('X-Auth-Request-Email', 'bob@example.com');
  expect(res.body).toEqual({ status: 'ok', user: 'bob@example.com' });
});

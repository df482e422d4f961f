import { isSessionCookieName, selectSessionCookies } from '../../src/protocol/session-cookies';

describe('isSessionCookieName', () => {
  it.each([
    '_oauth2_proxy',
    '_oauth2_proxy_0',
    '_oauth2_proxy_12',
    'mod_auth_openidc_session',
    'mod_auth_openidc_session_chunks',
    'mod_auth_openidc_session_0',
    '_pomerium',
    'CF_Authorization',
    'authentik_proxy_3b2f9a1c',
    'VouchCookie',
    'VouchCookie_1of3',
  ])('%s is a known auth proxy session cookie', (name) => {
    expect(isSessionCookieName(name)).toBe(true);
  });

  it.each([
    '_session',
    '_session.sig',
    '_oauth2_proxy_csrf',
    'theme',
    'mod_auth_openidc_state_abc',
    'cf_authorization',
    'xCF_Authorization',
    'VouchCookieX',
    'authentik_proxy_',
  ])('%s is not', (name) => {
    expect(isSessionCookieName(name)).toBe(false);
  });

  it("adds the operator's names with their chunks, and nothing that merely starts with them", () => {
    for (const name of ['sso', 'sso_0', 'sso_chunks', 'sso_1of2'])
      expect(isSessionCookieName(name, ['sso'])).toBe(true);
    for (const name of ['ssox', 'sso_x', 'sso.sig', 'x_sso'])
      expect(isSessionCookieName(name, ['sso'])).toBe(false);
  });

  it("adds express-openid-connect's dotted chunks (appSession.0, appSession.1…) of the operator's names", () => {
    for (const name of ['appSession', 'appSession.0', 'appSession.12'])
      expect(isSessionCookieName(name, ['appSession'])).toBe(true);
    for (const name of ['appSession.', 'appSession.x', 'appSession.0.1', 'appSession.sig', 'appSessionx'])
      expect(isSessionCookieName(name, ['appSession'])).toBe(false);
  });
});

describe('selectSessionCookies', () => {
  it('keeps only the session cookies, in order', () => {
    const cookies = [
      { name: '_session', value: 'idp' },
      { name: '_oauth2_proxy_1', value: 'b' },
      { name: 'theme', value: 'dark' },
      { name: '_oauth2_proxy_0', value: 'a' },
    ];
    expect(selectSessionCookies(cookies)).toEqual({
      cookies: [
        { name: '_oauth2_proxy_1', value: 'b' },
        { name: '_oauth2_proxy_0', value: 'a' },
      ],
      allCookies: false,
    });
  });

  it('falls back to all cookies when none is a session cookie', () => {
    const cookies = [{ name: 'theme', value: 'dark' }];
    expect(selectSessionCookies(cookies)).toEqual({ cookies, allCookies: true });
  });
});

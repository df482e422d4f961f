/**
 * serve's service-account options (src/cli/commands/serve-account-options.ts), table-driven: what each flag
 * becomes, and every refusal (a usage error naming the flag).
 */
import * as path from 'node:path';
import {
  parseServeAccountOptions,
  type ServeAccountFlags,
} from '../../src/cli/commands/serve-account-options';
import { CookieBridgeError } from '../../src/errors';

const ISSUER = 'https://api.example.com/cookie-bridge/sa';
const IDENTITY_HEADER = 'X-Auth-Request-Email';
const parse = (flags: ServeAccountFlags, env: NodeJS.ProcessEnv = {}) =>
  parseServeAccountOptions(flags, env, IDENTITY_HEADER, 'linux');

describe('parseServeAccountOptions', () => {
  it('without --service-accounts: only the role header', () => {
    expect(parse({})).toEqual({ roleHeader: 'X-Cookie-Bridge-Role' });
    expect(parse({ roleHeader: 'X-Role' })).toEqual({ roleHeader: 'X-Role' });
  });

  it('the defaults with --service-accounts --sa-issuer', () => {
    expect(
      parse({ serviceAccounts: true, saIssuer: `${ISSUER}/` }, { COOKIE_BRIDGE_STATE_DIR: '/srv/sa' }),
    ).toEqual({
      roleHeader: 'X-Cookie-Bridge-Role',
      accounts: {
        service: { issuer: ISSUER, audience: 'cookie-bridge', admins: [], defaultRole: 'user' },
        stateDir: '/srv/sa',
      },
    });
  });

  it('every flag', () => {
    const settings = parse({
      serviceAccounts: true,
      saIssuer: 'http://127.0.0.1:8080/cookie-bridge/sa',
      saAudience: 'my-api',
      saMaxLifetime: '7d',
      saKeyLifetime: '12h',
      saEmailDomain: 'robots.example.com',
      admin: ['alice@example.com,bob@example.com', 'alice@example.com'],
      defaultRole: 'admin',
      roleHeader: 'X-Team-Role',
      stateDir: 'state',
    });
    expect(settings).toEqual({
      roleHeader: 'X-Team-Role',
      accounts: {
        service: {
          issuer: 'http://127.0.0.1:8080/cookie-bridge/sa',
          audience: 'my-api',
          admins: ['alice@example.com', 'bob@example.com'],
          defaultRole: 'admin',
          maxLifetimeMs: 7 * 86_400_000,
          defaultLifetimeMs: 7 * 86_400_000,
          keyLifetimeMs: 12 * 3_600_000,
          emailDomain: 'robots.example.com',
        },
        stateDir: 'state',
      },
    });
  });

  it('a maximum above 30 days keeps the 30-day default', () => {
    const settings = parse({
      serviceAccounts: true,
      saIssuer: ISSUER,
      saMaxLifetime: '365d',
      stateDir: '/s',
    });
    expect(settings.accounts?.service).toMatchObject({
      maxLifetimeMs: 365 * 86_400_000,
      defaultLifetimeMs: 30 * 86_400_000,
    });
  });

  it('the state dir from XDG_DATA_HOME when nothing else says', () => {
    const settings = parse({ serviceAccounts: true, saIssuer: ISSUER }, { XDG_DATA_HOME: '/xdg' });
    expect(settings.accounts?.stateDir).toBe(path.join('/xdg', 'cookie-bridge', 'serve'));
  });

  it.each<[string, ServeAccountFlags, RegExp]>([
    ['--sa-issuer without --service-accounts', { saIssuer: ISSUER }, /--sa-issuer needs --service-accounts/],
    ['--admin without --service-accounts', { admin: ['a@b.c'] }, /--admin needs --service-accounts/],
    ['--state-dir without --service-accounts', { stateDir: '/s' }, /--state-dir needs --service-accounts/],
    ['no issuer', { serviceAccounts: true }, /needs --sa-issuer/],
    ['an issuer that is no URL', { serviceAccounts: true, saIssuer: 'cookie-bridge/sa' }, /not a URL/],
    [
      'http:// off loopback',
      { serviceAccounts: true, saIssuer: 'http://api.example.com/cookie-bridge/sa' },
      /https/,
    ],
    ['an issuer with a query', { serviceAccounts: true, saIssuer: `${ISSUER}?x=1` }, /query/],
    [
      'an issuer with user:password',
      { serviceAccounts: true, saIssuer: 'https://u:p@api.example.com/sa' },
      /user:password/,
    ],
    [
      'an issuer at the root',
      { serviceAccounts: true, saIssuer: 'https://api.example.com/' },
      /plain path of its own/,
    ],
    [
      'an issuer over the relay prefix',
      { serviceAccounts: true, saIssuer: 'https://api.example.com/cookie-bridge' },
      /overlaps/,
    ],
    [
      'an issuer under the admin API',
      { serviceAccounts: true, saIssuer: 'https://api.example.com/cookie-bridge/admin/sa' },
      /overlaps/,
    ],
    [
      'an issuer with encoding',
      { serviceAccounts: true, saIssuer: 'https://api.example.com/cookie%2Dbridge/sa' },
      /plain path/,
    ],
    [
      'a bad duration',
      { serviceAccounts: true, saIssuer: ISSUER, saMaxLifetime: '1 year' },
      /--sa-max-lifetime: not a duration/,
    ],
    [
      'a zero key lifetime',
      { serviceAccounts: true, saIssuer: ISSUER, saKeyLifetime: '0d' },
      /--sa-key-lifetime/,
    ],
    ['an empty audience', { serviceAccounts: true, saIssuer: ISSUER, saAudience: '' }, /--sa-audience/],
    [
      'a bad role',
      { serviceAccounts: true, saIssuer: ISSUER, defaultRole: 'root' },
      /--default-role must be one of admin, user/,
    ],
    [
      'an empty admin',
      { serviceAccounts: true, saIssuer: ISSUER, admin: ['a@b.c,'] },
      /--admin: not an identity/,
    ],
    [
      'a bad email domain',
      { serviceAccounts: true, saIssuer: ISSUER, saEmailDomain: 'Robots Example' },
      /--sa-email-domain/,
    ],
    [
      'an empty state dir',
      { serviceAccounts: true, saIssuer: ISSUER, stateDir: ' ' },
      /--state-dir is empty/,
    ],
    ['a role header that is not a name', { roleHeader: 'X Role' }, /--role-header: not a header name/],
    ['the identity header as role header', { roleHeader: 'x-auth-request-email' }, /--role-header cannot be/],
    ['Authorization as role header', { roleHeader: 'Authorization' }, /--role-header cannot be/],
  ])('refuses %s', (_name, flags, message) => {
    let caught: unknown;
    try {
      parse(flags);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CookieBridgeError);
    expect((caught as CookieBridgeError).code).toBe('E_USAGE');
    expect((caught as Error).message).toMatch(message);
  });
});

import {
  ADMIN_API_PATHS,
  asAdminError,
  isAdminMeJson,
  isServiceAccountJson,
  isUserJson,
  SERVICE_ACCOUNT_NAME,
  serverText,
} from '../../src/protocol/admin-api';
import * as accountTypes from '../../src/server/accounts/account-types';

const ACCOUNT = {
  name: 'nightly-ci',
  role: 'user',
  createdAt: '2026-12-01T00:00:00.000Z',
  expiresAt: '2026-12-31T00:00:00.000Z',
  createdBy: 'alice@example.com',
  status: 'active',
};

describe('the admin API contract', () => {
  it('is the one account-types.ts re-exports', () => {
    expect(accountTypes.ROLES).toEqual(['admin', 'user']);
    expect(accountTypes.SERVICE_ACCOUNT_NAME).toBe(SERVICE_ACCOUNT_NAME);
  });

  it.each(['a', 'nightly-ci', '0day', 'a'.repeat(63)])('%j is a service account name', (name) => {
    expect(SERVICE_ACCOUNT_NAME.test(name)).toBe(true);
  });
  it.each(['', '-a', 'A', 'a_b', 'a.b', '../x', 'a/b', 'a'.repeat(64), 'é'])('%j is not', (name) => {
    expect(SERVICE_ACCOUNT_NAME.test(name)).toBe(false);
  });

  it('encodes the names and identities it puts into paths', () => {
    expect(ADMIN_API_PATHS.serviceAccount('etl')).toBe('/cookie-bridge/admin/service-accounts/etl');
    expect(ADMIN_API_PATHS.userRole('a/b@example.com')).toBe(
      '/cookie-bridge/admin/users/a%2Fb%40example.com/role',
    );
  });

  it('recognises the answers it reads, and nothing else', () => {
    expect(isServiceAccountJson(ACCOUNT)).toBe(true);
    expect(isServiceAccountJson({ ...ACCOUNT, role: 'root' })).toBe(false);
    expect(isServiceAccountJson({ ...ACCOUNT, status: 'gone' })).toBe(false);
    expect(isServiceAccountJson({ ...ACCOUNT, createdAt: 1 })).toBe(false);
    expect(isUserJson({ identity: 'a@b', role: 'admin', roleSource: 'admin-flag' })).toBe(true);
    expect(isUserJson({ identity: 'a@b', role: 'admin', roleSource: 'flag' })).toBe(false);
    expect(isAdminMeJson({ identity: 'a@b', role: 'user', kind: 'person' })).toBe(true);
    expect(isAdminMeJson({ identity: 'a@b', role: 'user', kind: 'robot' })).toBe(false);
    expect(isAdminMeJson(null)).toBe(false);
  });

  it('takes an error answer only in the {"error","message"} shape', () => {
    expect(asAdminError({ error: 'forbidden', message: 'm', admins: 'x' })).toEqual({
      error: 'forbidden',
      message: 'm',
      admins: 'x',
    });
    expect(asAdminError({})).toBeUndefined(); // oauth2-proxy's 401 body
    expect(asAdminError({ error: 'x' })).toBeUndefined();
    expect(asAdminError(['error', 'message'])).toBeUndefined();
    expect(asAdminError('error')).toBeUndefined();
  });

  it('makes server text safe for a terminal line', () => {
    expect(serverText('only admins may\n\x1b[31mcreate\x9b')).toBe('only admins may??[31mcreate?');
    expect(serverText('x'.repeat(400))).toBe(`${'x'.repeat(300)}…`);
  });
});

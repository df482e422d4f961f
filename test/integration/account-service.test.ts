import { createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { CONTENDED_LOCK_RETRIES } from '../../fixtures/real-components/budgets';
import type { Logger } from '../../src/context';
import { verifyJwt } from '../../src/protocol/jwt';
import { createAccountService, type AccountServiceDeps } from '../../src/server/accounts/account-service';
import type { AccountStateStore } from '../../src/server/accounts/account-state-store';
import {
  AccountRequestError,
  AccountStateError,
  type AccountService,
  type AccountServiceOptions,
} from '../../src/server/accounts/account-types';
import { createFileAccountStateStore } from '../../src/server/accounts/file-account-state-store';
import { signingKeysCodec } from '../../src/server/accounts/signing-keys';
import { FAKE_NOW } from '../kit/fake-context';
import { memoryAccountStateStore } from '../kit/memory-account-state-store';

const ISSUER = 'https://api.example.test/cookie-bridge/sa';
const DAY = 86_400_000;
/** A token that names a kid, so checking it needs the keys (its signature is nonsense). */
const KEYED_TOKEN = `${Buffer.from('{"alg":"ES256","kid":"k"}').toString('base64url')}.e30.${'A'.repeat(86)}`;

let tmp: string;
let stateDir: string;
let clock: number;
let logLines: string[];

const now = (): number => clock;
const logger: Logger = {
  debug: (line) => logLines.push(line),
  info: (line) => logLines.push(line),
  warn: (line) => logLines.push(line),
};

function service(
  options: Partial<AccountServiceOptions> = {},
  deps: Partial<AccountServiceDeps> = {},
): AccountService {
  return createAccountService({
    issuer: ISSUER,
    admins: ['root@example.test'],
    store: createFileAccountStateStore({ dir: stateDir, lock: { retries: CONTENDED_LOCK_RETRIES } }),
    now,
    logger,
    ...options,
    ...deps,
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a rejection');
  return outcome;
}

async function modeOf(target: string): Promise<number> {
  return (await fs.stat(target)).mode & 0o777;
}

/** Every private key `d` ever stored in keys.json (the test reads the file to know what must never leak). */
async function privateParts(): Promise<string[]> {
  const raw = JSON.parse(await fs.readFile(path.join(stateDir, 'keys.json'), 'utf8')) as {
    keys: Array<{ privateJwk: { d: string } }>;
  };
  return raw.keys.map((key) => key.privateJwk.d);
}

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-accounts-'));
  stateDir = path.join(tmp, 'state');
  clock = FAKE_NOW;
  logLines = [];
});

afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('service accounts', () => {
  it('create: the token verifies with the account, its identity and role, and says so in its claims', async () => {
    const accounts = service();
    const { account, token } = await accounts.create({
      name: 'ci',
      role: 'user',
      createdBy: 'root@example.test',
    });
    expect(account).toMatchObject({
      name: 'ci',
      role: 'user',
      createdAt: FAKE_NOW,
      expiresAt: FAKE_NOW + 30 * DAY,
      createdBy: 'root@example.test',
    });
    const verdict = await accounts.verifyBearer(token);
    expect(verdict).toEqual({ ok: true, account, identity: 'ci@service-accounts.invalid', role: 'user' });
    const { keys } = await accounts.publicJwks();
    const checked = verifyJwt(token, {
      keyFor: (kid) => {
        const jwk = keys.find((key) => key.kid === kid);
        return jwk === undefined ? undefined : createPublicKey({ key: { ...jwk }, format: 'jwk' });
      },
      issuer: ISSUER,
      audience: 'cookie-bridge',
      now: clock,
    });
    expect(checked).toMatchObject({
      ok: true,
      claims: { sub: 'sa:ci', email: 'ci@service-accounts.invalid', role: 'user', jti: account.jti },
    });
    expect(await accounts.list()).toEqual([{ ...account, status: 'active' }]);
  });

  it('the audience and e-mail domain come from the options; another audience refuses the token', async () => {
    const accounts = service({ audience: 'robots', emailDomain: 'bots.example.test' });
    const { token } = await accounts.create({ name: 'nb', role: 'admin', createdBy: 'root@example.test' });
    expect(await accounts.verifyBearer(token)).toMatchObject({
      ok: true,
      identity: 'nb@bots.example.test',
      role: 'admin',
    });
    expect(await service().verifyBearer(token)).toEqual({ ok: false, reason: 'wrong-audience' });
  });

  it('revoke: the token is refused as revoked, the account is listed as revoked, unknown names are 404', async () => {
    const accounts = service();
    const { token } = await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    clock += 1000;
    const revoked = await accounts.revoke('ci', 'root@example.test');
    expect(revoked).toMatchObject({ revokedAt: clock, revokedBy: 'root@example.test' });
    expect(await accounts.verifyBearer(token)).toEqual({ ok: false, reason: 'revoked' });
    expect((await accounts.list())[0]?.status).toBe('revoked');
    const missing = await rejection(accounts.revoke('nobody', 'root@example.test'));
    expect(missing).toBeInstanceOf(AccountRequestError);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('expiry follows the clock (60 s of leeway), and the list says expired', async () => {
    const accounts = service();
    const { token } = await accounts.create({
      name: 'ci',
      role: 'user',
      createdBy: 'root@example.test',
      lifetimeMs: 3_600_000,
    });
    clock += 3_600_000 + 59_000;
    expect((await accounts.verifyBearer(token)).ok).toBe(true);
    clock += 1000;
    expect(await accounts.verifyBearer(token)).toEqual({ ok: false, reason: 'expired' });
    expect((await accounts.list())[0]?.status).toBe('expired');
  });

  it('bad requests: a lifetime over the maximum, a bad name or role are AccountRequestError 400', async () => {
    const accounts = service({ maxLifetimeMs: 90 * DAY });
    const tooLong = await rejection(
      accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test', lifetimeMs: 91 * DAY }),
    );
    expect(tooLong).toBeInstanceOf(AccountRequestError);
    expect(tooLong).toMatchObject({ status: 400, code: 'bad_request' });
    expect(tooLong.message).toContain('90d');
    for (const request of [
      { name: 'CI', role: 'user' },
      { name: '-ci', role: 'user' },
      { name: 'a'.repeat(64), role: 'user' },
      { name: 'ci', role: 'root' },
      { name: 'ci', role: 'user', lifetimeMs: 0 },
      { name: 'ci', role: 'user', lifetimeMs: 1.5 },
    ]) {
      const error = await rejection(accounts.create({ createdBy: 'root@example.test', ...request } as never));
      expect(error).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(await accounts.list()).toEqual([]);
  });

  it('a duplicate active name is 409; after a revoke the name can be created again and the old token stays refused', async () => {
    const accounts = service();
    const first = await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    const duplicate = await rejection(
      accounts.create({ name: 'ci', role: 'admin', createdBy: 'root@example.test' }),
    );
    expect(duplicate).toMatchObject({ status: 409, code: 'exists' });
    await accounts.revoke('ci', 'root@example.test');
    const second = await accounts.create({ name: 'ci', role: 'admin', createdBy: 'root@example.test' });
    expect(second.account.jti).not.toBe(first.account.jti);
    expect(await accounts.verifyBearer(first.token)).toEqual({ ok: false, reason: 'revoked' });
    expect(await accounts.verifyBearer(second.token)).toMatchObject({ ok: true, role: 'admin' });
  });

  it('a token of an account the registry does not know is unknown-account', async () => {
    const accounts = service();
    const { token } = await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    await fs.writeFile(path.join(stateDir, 'service-accounts.json'), '{"version":1,"serviceAccounts":[]}\n', {
      mode: 0o600,
    });
    clock += 5000;
    expect(await accounts.verifyBearer(token)).toEqual({ ok: false, reason: 'unknown-account' });
  });
});

describe('signing keys', () => {
  it('rotateKey: a token signed before still verifies, both keys are published, the old one until retiredAt + max lifetime', async () => {
    const accounts = service({ maxLifetimeMs: 10 * DAY, defaultLifetimeMs: DAY });
    const before = await accounts.create({ name: 'old', role: 'user', createdBy: 'root@example.test' });
    const [oldKey] = (await accounts.publicJwks()).keys;
    clock += 1000;
    const retiredAt = clock;
    const { kid } = await accounts.rotateKey();
    expect(kid).not.toBe(oldKey!.kid);
    expect((await accounts.publicJwks()).keys.map((key) => key.kid)).toEqual([oldKey!.kid, kid]);
    expect((await accounts.verifyBearer(before.token)).ok).toBe(true);
    const after = await accounts.create({ name: 'new', role: 'user', createdBy: 'root@example.test' });
    expect(JSON.parse(Buffer.from(after.token.split('.')[0]!, 'base64url').toString())).toMatchObject({
      kid,
    });

    clock = retiredAt + 10 * DAY - 1;
    expect((await accounts.publicJwks()).keys).toHaveLength(2);
    clock = retiredAt + 10 * DAY;
    expect((await accounts.publicJwks()).keys.map((key) => key.kid)).toEqual([kid]);
    expect(await accounts.verifyBearer(before.token)).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('rotates by itself once the current key is keyLifetimeMs old, and logs only the kid', async () => {
    const accounts = service({ keyLifetimeMs: 7 * DAY });
    const first = (await accounts.publicJwks()).keys;
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(first[0]).not.toHaveProperty('d');
    clock += 7 * DAY - 1;
    expect((await accounts.publicJwks()).keys).toEqual(first);
    clock += 1;
    const { token } = await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    const rotated = (await accounts.publicJwks()).keys;
    expect(rotated.map((key) => key.kid)).toEqual([first[0]!.kid, expect.any(String)]);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated[1]!.kid);
    expect(logLines.some((line) => line.includes(rotated[1]!.kid))).toBe(true);
  });

  it('the private key never appears in JSON, inspect, String, log lines or errors', async () => {
    const accounts = service();
    await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    await accounts.rotateKey();
    const secrets = await privateParts();
    expect(secrets).toHaveLength(2);
    const set = await createFileAccountStateStore({ dir: stateDir }).read(signingKeysCodec);
    const shown = [
      JSON.stringify(accounts),
      inspect(accounts, { depth: 10, showHidden: true }),
      JSON.stringify(set),
      inspect(set, { depth: 10, showHidden: true }),
      String(set.keys[0]),
      JSON.stringify(await accounts.publicJwks()),
      ...logLines,
    ];
    // A key file that another service cannot use gives an error; it must not quote the key either.
    const raw = await fs.readFile(path.join(stateDir, 'keys.json'), 'utf8');
    await fs.writeFile(path.join(stateDir, 'keys.json'), raw.replace(/"kid": "[^"]+"/, '"kid": "changed"'));
    const error = await rejection(service().publicJwks());
    expect(error).toBeInstanceOf(AccountStateError);
    shown.push(error.message, inspect(error));
    for (const text of shown) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});

describe('roles and people', () => {
  it('the --admin list wins, then the registry, then the default role; identities match without case', async () => {
    const accounts = service();
    expect(await accounts.roleOf('Root@Example.test')).toBe('admin');
    expect(await accounts.roleOf('alice@example.test')).toBe('user');
    const set = await accounts.setRole('ALICE@example.test', 'admin', 'root@example.test');
    expect(set).toMatchObject({ role: 'admin', roleSource: 'registry' });
    expect(await accounts.roleOf('alice@example.test')).toBe('admin');
    const demote = await rejection(accounts.setRole('root@example.test', 'user', 'alice@example.test'));
    expect(demote).toMatchObject({ status: 400, code: 'bad_request' });
    expect(await accounts.roleOf('root@example.test')).toBe('admin');
    expect(await service({ defaultRole: 'admin' }).roleOf('bob@example.test')).toBe('admin');
    const badRole = await rejection(
      accounts.setRole('bob@example.test', 'owner' as never, 'root@example.test'),
    );
    expect(badRole).toMatchObject({ status: 400 });
  });

  it('people seen are recorded with lastSeenAt; the list also shows --admin identities not seen yet', async () => {
    const accounts = service();
    await accounts.roleOf('alice@example.test');
    clock += 30_000;
    await accounts.roleOf('alice@example.test');
    clock += 60_000;
    await accounts.setRole('carol@example.test', 'admin', 'root@example.test');
    expect(await accounts.listPeople()).toEqual([
      { identity: 'alice@example.test', role: 'user', roleSource: 'default', lastSeenAt: FAKE_NOW },
      { identity: 'carol@example.test', role: 'admin', roleSource: 'registry' },
      { identity: 'root@example.test', role: 'admin', roleSource: 'admin-flag' },
    ]);
    await accounts.roleOf('alice@example.test');
    expect((await accounts.listPeople())[0]).toMatchObject({ lastSeenAt: clock });
  });
});

describe('the state dir', () => {
  it('is 0700 with 0600 files, and leaves no temp files behind', async () => {
    const accounts = service();
    await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    await accounts.roleOf('alice@example.test');
    expect(await modeOf(stateDir)).toBe(0o700);
    const entries = (await fs.readdir(stateDir)).sort();
    expect(entries).toEqual(['keys.json', 'people.json', 'service-accounts.json']);
    for (const entry of entries) expect(await modeOf(path.join(stateDir, entry))).toBe(0o600);
  });

  it.each([
    ['not JSON', '{"version":1,"keys":[{"kid"'],
    ['not a keys document', '{"version":2,"keys":[]}'],
    [
      'a key that is not a key',
      '{"version":1,"keys":[{"kid":"k","createdAt":1,"privateJwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}}]}',
    ],
  ])(
    'a corrupt keys file (%s) is an AccountStateError naming the file; no new key is written',
    async (_label, content) => {
      await fs.mkdir(stateDir, { mode: 0o700 });
      const file = path.join(stateDir, 'keys.json');
      await fs.writeFile(file, content, { mode: 0o600 });
      const accounts = service();
      for (const call of [
        () => accounts.publicJwks(),
        () => accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' }),
        () => accounts.rotateKey(),
        () => accounts.verifyBearer(KEYED_TOKEN),
      ]) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(AccountStateError);
        expect((error as AccountStateError).file).toBe(file);
        expect(error.message).toContain(file);
      }
      expect(await fs.readFile(file, 'utf8')).toBe(content);
      expect(await fs.readdir(stateDir)).toEqual(['keys.json']);
    },
  );

  it.each([
    ['the folder readable by the group', 'dir', 0o750],
    ['the folder open to all', 'dir', 0o777],
    ['the keys file readable by others', 'file', 0o644],
  ])('%s is refused (AccountStateError naming it) and left as it is', async (_label, which, mode) => {
    await service().publicJwks();
    const file = path.join(stateDir, 'keys.json');
    const target = which === 'dir' ? stateDir : file;
    const before = await fs.readFile(file, 'utf8');
    await fs.chmod(target, mode);
    const error = await rejection(service().publicJwks());
    expect(error).toBeInstanceOf(AccountStateError);
    expect((error as AccountStateError).file).toBe(target);
    expect(error.message).toContain(`mode ${mode.toString(8)}`);
    expect(await modeOf(target)).toBe(mode);
    await fs.chmod(stateDir, 0o700);
    expect(await fs.readFile(file, 'utf8')).toBe(before);
  });

  it('a symbolic link as the state dir is refused', async () => {
    const real = path.join(tmp, 'real');
    await fs.mkdir(real, { mode: 0o700 });
    await fs.symlink(real, stateDir);
    const error = await rejection(service().publicJwks());
    expect(error).toBeInstanceOf(AccountStateError);
    expect(await fs.readdir(real)).toEqual([]);
  });
});

describe('two services on one state dir (two replicas on one host)', () => {
  it('a token created by one verifies on the other; a revocation on one is seen by the other within the cache time', async () => {
    const a = service({}, { cacheMs: 5000 });
    const b = service({}, { cacheMs: 5000 });
    expect((await b.publicJwks()).keys).toHaveLength(1);
    const { token } = await a.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    expect(await b.verifyBearer(token)).toMatchObject({ ok: true, identity: 'ci@service-accounts.invalid' });
    await a.revoke('ci', 'root@example.test');
    expect(await a.verifyBearer(token)).toEqual({ ok: false, reason: 'revoked' });
    // b read the registry just now: it may go on accepting the token until its cache ends.
    expect((await b.verifyBearer(token)).ok).toBe(true);
    clock += 5000;
    expect(await b.verifyBearer(token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('a key rotated on one is used at once by the other, and a role set on one is seen by the other after the cache time', async () => {
    const a = service();
    const b = service();
    await b.create({ name: 'first', role: 'user', createdBy: 'root@example.test' });
    const { kid } = await a.rotateKey();
    const { token } = await a.create({ name: 'second', role: 'user', createdBy: 'root@example.test' });
    clock += 1000;
    expect(await b.verifyBearer(token)).toMatchObject({ ok: true });
    expect((await b.publicJwks()).keys.map((key) => key.kid)).toContain(kid);
    expect(await b.roleOf('dave@example.test')).toBe('user');
    await a.setRole('dave@example.test', 'admin', 'root@example.test');
    clock += 5000;
    expect(await b.roleOf('dave@example.test')).toBe('admin');
  });

  it('concurrent creates on both keep every account and one signing key', async () => {
    const a = service();
    const b = service();
    const names = Array.from({ length: 12 }, (_, index) => `robot-${index}`);
    const created = await Promise.all(
      names.map((name, index) =>
        (index % 2 === 0 ? a : b).create({ name, role: 'user', createdBy: 'root@example.test' }),
      ),
    );
    expect((await a.list()).map((account) => account.name).sort()).toEqual([...names].sort());
    expect((await a.publicJwks()).keys).toHaveLength(1);
    for (const { token } of created) expect((await b.verifyBearer(token)).ok).toBe(true);
  });
});

describe('the store seam', () => {
  it('a store that is down rejects every call with its AccountStateError', async () => {
    const down: AccountStateStore = {
      locationOf: (name) => `redis:${name}`,
      read: () => Promise.reject(new AccountStateError('the shared store is unreachable')),
      update: () => Promise.reject(new AccountStateError('the shared store is unreachable')),
    };
    const accounts = service({}, { store: down });
    for (const call of [
      () => accounts.verifyBearer(KEYED_TOKEN),
      () => accounts.roleOf('alice@example.test'),
      () => accounts.list(),
    ]) {
      expect(await rejection(call())).toBeInstanceOf(AccountStateError);
    }
  });
});

describe('hostile bearer tokens', () => {
  it('garbage, foreign issuers and forged kids are refused without throwing, and nothing is written', async () => {
    const store = memoryAccountStateStore();
    const accounts = service({}, { store });
    const { token } = await accounts.create({ name: 'ci', role: 'user', createdBy: 'root@example.test' });
    const before = new Map(store.raw);
    const [header, payload] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const withClaims = (changed: Record<string, unknown>): string =>
      `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changed })).toString('base64url')}.${token.split('.')[2]}`;
    const cases: Array<[string, string]> = [
      ['', 'malformed'],
      ['Bearer', 'malformed'],
      [`${token}x`, 'malformed'],
      [KEYED_TOKEN, 'unknown-key'],
      [withClaims({ sub: 'sa:other' }), 'bad-signature'],
      ['\u0000'.repeat(9000), 'malformed'],
    ];
    for (const [input, reason] of cases) {
      expect(await accounts.verifyBearer(input)).toEqual({ ok: false, reason });
    }
    // Another issuer's service with its own keys: its tokens name a kid this one does not publish.
    const other = service({ issuer: 'https://other.example.test/sa' }, { store: memoryAccountStateStore() });
    const foreign = await other.create({ name: 'ci', role: 'admin', createdBy: 'root@example.test' });
    expect(await accounts.verifyBearer(foreign.token)).toEqual({ ok: false, reason: 'unknown-key' });
    expect(store.raw).toEqual(before);
  });

  it('a document another backend holds that is not valid is an AccountStateError naming where it lives', async () => {
    const store = memoryAccountStateStore();
    store.raw.set('service-accounts', '{"version":1,"serviceAccounts":[{"name":"ci"}]}');
    const error = await rejection(service({}, { store }).list());
    expect(error).toBeInstanceOf(AccountStateError);
    expect(error.message).toBe('memory:service-accounts entry 1 is not a service account');
  });
});

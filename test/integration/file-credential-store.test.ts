import { promises as fs, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EndpointProfile } from '../../src/store/credential-types';
import { endpointSlug, FileCredentialStore } from '../../src/store/file-credential-store';
import * as fsCalls from '../../src/store/fs-calls';
import { lockPathFor } from '../../src/store/secure-file';
import { CredentialFileError, InvalidBundleError } from '../../src/errors';

const T0 = Date.parse('2030-01-01T00:00:00Z');
let home: string;
let time: number;
let debugLines: string[];

function newStore(): FileCredentialStore {
  return new FileCredentialStore({
    home,
    now: () => time,
    logger: { debug: (line) => debugLines.push(line), info: () => undefined, warn: () => undefined },
    lock: { retries: 0 },
  });
}

function cookieProfile(endpoint: string): EndpointProfile {
  return {
    endpoint,
    auth: { type: 'cookies' },
    proxy: 'oauth2-proxy',
    identity: 'ada',
    loggedInAt: '2030-01-01T00:00:00Z',
  };
}

async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

async function snapshot(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await fs.readdir(folder))
    files[name] = await fs.readFile(path.join(folder, name), 'utf8');
  return files;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-store-'));
  time = T0;
  debugLines = [];
});

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('endpointSlug', () => {
  it.each([
    ['https://api.example.com:8443', /^https_api\.example\.com_8443-[0-9a-f]{8}$/],
    ['https://api.example.com', /^https_api\.example\.com-[0-9a-f]{8}$/],
    ['http://127.0.0.1:3000', /^http_127\.0\.0\.1_3000-[0-9a-f]{8}$/],
    ['http://localhost:8080/team/api', /^http_localhost_8080_team_api-[0-9a-f]{8}$/],
    ['http://[::1]:9000', /^http_--1_9000-[0-9a-f]{8}$/],
  ])('%s → a readable, filesystem-safe name', (endpoint, expected) => {
    const slug = endpointSlug(endpoint);
    expect(slug).toMatch(expected);
    expect(slug).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('is the same for spellings of one endpoint and differs between endpoints', () => {
    const slug = endpointSlug('https://api.example.com');
    expect(endpointSlug('api.example.com')).toBe(slug);
    expect(endpointSlug('https://user:pw@API.example.com:443/')).toBe(slug);
    const others = ['http://api.example.com', 'https://api.example.com/v2', 'https://api.example.com:8443'];
    for (const other of others) expect(endpointSlug(other)).not.toBe(slug);
    // Paths that only differ by case or punctuation still get their own folder (hash).
    expect(endpointSlug('https://x.test/A_b')).not.toBe(endpointSlug('https://x.test/a-b'));
    expect(endpointSlug('https://x.test/A_b').toLowerCase()).not.toBe(
      endpointSlug('https://x.test/a_b').toLowerCase(),
    );
  });
});

describe('saveLogin and getCookieHeader', () => {
  it.each([
    ['http://127.0.0.1:41234', false],
    ['http://localhost:41234', false],
    ['http://[::1]:41234', false],
    ['https://api.example.com:8443', true],
    ['https://intranet.local', true],
  ])('stores host-only cookies for %s and replays them', async (endpoint, secure) => {
    const store = newStore();
    await store.saveLogin(cookieProfile(endpoint), [
      { name: 'session', value: 'v1' },
      { name: '__Host-csrf', value: 'v2' },
    ]);
    const url = new URL(`${endpoint}/api/items?x=1`);
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v1; __Host-csrf=v2');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const cookies = await store.listCookies(endpoint);
    expect(cookies).toEqual([
      { name: 'session', value: 'v1', domain: host, path: '/', secure, httpOnly: true, hostOnly: true },
      { name: '__Host-csrf', value: 'v2', domain: host, path: '/', secure, httpOnly: true, hostOnly: true },
    ]);
    await expect(store.getProfile(`${endpoint}/`)).resolves.toEqual(cookieProfile(endpoint));
  });

  it('writes folders 0700 and files 0600 even under a loose umask', async () => {
    const previous = process.umask(0o000);
    try {
      const store = newStore();
      const endpoint = 'http://127.0.0.1:4000';
      await store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]);
      await store.setLastEndpoint(endpoint);
      const paths = store.pathsFor(endpoint);
      expect(await modeOf(home)).toBe(0o700);
      expect(await modeOf(path.dirname(paths.folder))).toBe(0o700);
      expect(await modeOf(paths.folder)).toBe(0o700);
      expect(await modeOf(paths.profile)).toBe(0o600);
      expect(await modeOf(paths.cookies)).toBe(0o600);
      expect(await modeOf(store.configFile)).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('tightens files created 0644 when they are updated', async () => {
    const store = newStore();
    const endpoint = 'http://127.0.0.1:4000';
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]);
    const { cookies, folder } = store.pathsFor(endpoint);
    await fs.chmod(cookies, 0o644);
    await fs.chmod(folder, 0o755);
    await store.applySetCookies(endpoint, new URL(endpoint), ['a=2']);
    expect(await modeOf(cookies)).toBe(0o600);
    expect(await modeOf(folder)).toBe(0o700);
  });

  it('keeps chunked sessions whole and in order', async () => {
    const store = newStore();
    const endpoint = 'http://localhost:4180';
    const chunks = [
      { name: 'mod_auth_openidc_session_chunks', value: '3' },
      { name: 'mod_auth_openidc_session_0', value: 'c0' },
      { name: 'mod_auth_openidc_session_1', value: 'c1' },
      { name: 'mod_auth_openidc_session_2', value: 'c2' },
      { name: '_oauth2_proxy_0', value: 'p0' },
      { name: '_oauth2_proxy_1', value: 'p1' },
    ];
    await store.saveLogin(cookieProfile(endpoint), chunks);
    // A new instance reads everything back from disk.
    const reread = newStore();
    const header = chunks.map((c) => `${c.name}=${c.value}`).join('; ');
    await expect(reread.getCookieHeader(endpoint, new URL(`${endpoint}/x`))).resolves.toBe(header);
    // Refreshing one chunk keeps its place.
    await reread.applySetCookies(endpoint, new URL(endpoint), ['_oauth2_proxy_0=p0-new; Path=/; HttpOnly']);
    await expect(newStore().getCookieHeader(endpoint, new URL(endpoint))).resolves.toBe(
      header.replace('_oauth2_proxy_0=p0', '_oauth2_proxy_0=p0-new'),
    );
  });

  it('replaces the previous jar with exactly the new cookies', async () => {
    const store = newStore();
    const endpoint = 'http://127.0.0.1:4000';
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'old', value: '1' }]);
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'new', value: '2' }]);
    await expect(store.getCookieHeader(endpoint, new URL(endpoint))).resolves.toBe('new=2');
  });

  it.each([
    [{ name: 'bad name', value: 'x' }, 'invalid name'],
    [{ name: 'ok', value: 'semi;colon' }, 'invalid value'],
  ])('refuses an invalid cookie (%j) and saves nothing', async (cookie, reason) => {
    const store = newStore();
    const endpoint = 'http://127.0.0.1:4000';
    const error = await rejection(store.saveLogin(cookieProfile(endpoint), [cookie]));
    expect(error).toBeInstanceOf(InvalidBundleError);
    expect((error as Error).message).toContain(reason);
    expect((error as Error).message).not.toContain('semi;colon');
    await expect(store.getProfile(endpoint)).resolves.toBeUndefined();
  });

  it('stores token and basic logins without a jar, removing an old one', async () => {
    const store = newStore();
    const endpoint = 'https://api.example.com';
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]);
    const token: EndpointProfile = { endpoint, auth: { type: 'token', token: 't0k' }, loggedInAt: 'now' };
    await store.saveLogin(token);
    await expect(fs.stat(store.pathsFor(endpoint).cookies)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.getProfile(endpoint)).resolves.toEqual(token);
    await expect(store.getCookieHeader(endpoint, new URL(endpoint))).resolves.toBeUndefined();
    await expect(store.listCookies(endpoint)).resolves.toEqual([]);
    const basic: EndpointProfile = {
      endpoint,
      auth: { type: 'basic', username: 'u', password: 'p' },
      loggedInAt: 'x',
    };
    await store.saveLogin(basic);
    await expect(store.getProfile(endpoint)).resolves.toEqual(basic);
  });

  it('answers undefined for an endpoint never logged in, and creates nothing', async () => {
    const store = newStore();
    await expect(store.getProfile('https://nowhere.test')).resolves.toBeUndefined();
    await expect(
      store.getCookieHeader('https://nowhere.test', new URL('https://nowhere.test')),
    ).resolves.toBeUndefined();
    await store.applySetCookies('https://nowhere.test', new URL('https://nowhere.test'), ['a=1']);
    await expect(store.listProfiles()).resolves.toEqual([]);
    await expect(store.getLastEndpoint()).resolves.toBeUndefined();
    await expect(fs.readdir(home)).resolves.toEqual([]);
  });

  it('never sends cookies to another origin', async () => {
    const store = newStore();
    const endpoint = 'https://api.example.com';
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]);
    await expect(
      store.getCookieHeader(endpoint, new URL('https://evil.example.com/')),
    ).resolves.toBeUndefined();
    await expect(
      store.getCookieHeader(endpoint, new URL('http://api.example.com/')),
    ).resolves.toBeUndefined();
  });
});

describe('applySetCookies', () => {
  const endpoint = 'http://127.0.0.1:4000';
  const url = new URL(`${endpoint}/api/items`);

  async function loggedIn(): Promise<FileCredentialStore> {
    const store = newStore();
    await store.saveLogin(cookieProfile(endpoint), [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
      { name: 'c', value: '3' },
    ]);
    return store;
  }

  it.each([
    ['updates one value and keeps the others', ['b=20; Path=/'], 'a=1; b=20; c=3'],
    ['deletes with Max-Age=0', ['b=; Max-Age=0; Path=/'], 'a=1; c=3'],
    ['deletes with a past Expires', ['b=x; Expires=Thu, 01 Jan 2015 00:00:00 GMT; Path=/'], 'a=1; c=3'],
    ['adds a new cookie', ['d=4; Path=/; HttpOnly'], 'a=1; b=2; c=3; d=4'],
    [
      'applies several headers in order',
      ['a=10; Path=/', 'c=; Max-Age=0; Path=/', 'e=5; Path=/'],
      'a=10; b=2; e=5',
    ],
    // Without Path the default is the request's folder (/api), and longer paths are sent first (RFC 6265 5.4).
    ['defaults Path to the request folder', ['e=5'], 'e=5; a=1; b=2; c=3'],
    ['ignores an unparseable header', ['', '=;;', 'no-equals-sign', 'b=21; Path=/'], 'a=1; b=21; c=3'],
    ['ignores foreign domains', ['x=1; Domain=evil.example.com', 'y=1; Domain=example.com'], 'a=1; b=2; c=3'],
  ])('%s', async (_name, headers, expected) => {
    const store = await loggedIn();
    await store.applySetCookies(endpoint, url, headers);
    await expect(newStore().getCookieHeader(endpoint, url)).resolves.toBe(expected);
  });

  it('keeps the attributes the server set', async () => {
    const store = await loggedIn();
    await store.applySetCookies(endpoint, url, [
      'scoped=s; Path=/api',
      'dated=d; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Path=/',
      'aged=g; Max-Age=3600; Path=/',
      'dom=o; Domain=127.0.0.1; Path=/',
    ]);
    const byName = new Map((await newStore().listCookies(endpoint)).map((c) => [c.name, c]));
    expect(byName.get('scoped')).toMatchObject({ path: '/api', httpOnly: false, secure: false });
    expect(byName.get('dated')?.expires?.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect(byName.get('aged')?.expires?.getTime()).toBe(T0 + 3600 * 1000);
    expect(byName.get('dom')).toMatchObject({ domain: '127.0.0.1' });
    await expect(newStore().getCookieHeader(endpoint, new URL(`${endpoint}/other`))).resolves.not.toContain(
      'scoped=',
    );
    await expect(newStore().getCookieHeader(endpoint, url)).resolves.toContain('scoped=s');
  });

  it('accepts Domain=localhost from a localhost endpoint', async () => {
    const local = 'http://localhost:4100';
    const store = newStore();
    await store.saveLogin(cookieProfile(local), []);
    await store.applySetCookies(local, new URL(local), ['d=1; Domain=localhost; Path=/']);
    await expect(store.listCookies(local)).resolves.toMatchObject([{ name: 'd', domain: 'localhost' }]);
    await expect(store.getCookieHeader(local, new URL(`${local}/x`))).resolves.toBe('d=1');
  });

  it('does not write when nothing changed', async () => {
    const store = await loggedIn();
    const file = store.pathsFor(endpoint).cookies;
    const before = await fs.stat(file);
    time += 1000; // only access times would change
    await store.applySetCookies(endpoint, url, ['a=1; Path=/; HttpOnly', 'zzz; Domain=foreign.test']);
    await store.applySetCookies(endpoint, url, []);
    const after = await fs.stat(file);
    expect(after.ino).toBe(before.ino); // an atomic write would have replaced the file
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('logs ignored headers with the value redacted', async () => {
    const store = await loggedIn();
    await store.applySetCookies(endpoint, url, ['x=s3cr3t; Domain=evil.example.com']);
    expect(debugLines.join('\n')).toContain('x=<redacted>');
    expect(debugLines.join('\n')).not.toContain('s3cr3t');
  });

  it('ignores responses from another origin', async () => {
    const store = await loggedIn();
    await store.applySetCookies(endpoint, new URL('http://127.0.0.1:4001/'), ['a=999']);
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('a=1; b=2; c=3');
  });

  it('expires cookies by the injected clock', async () => {
    const store = await loggedIn();
    await store.applySetCookies(endpoint, url, ['short=1; Max-Age=60; Path=/']);
    time = T0 + 59_000;
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('a=1; b=2; c=3; short=1');
    time = T0 + 60_000;
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('a=1; b=2; c=3');
    expect((await store.listCookies(endpoint)).map((c) => c.name)).toEqual(['a', 'b', 'c']);
    // The next write drops it from the file too.
    await store.applySetCookies(endpoint, url, ['a=2']);
    expect(await fs.readFile(store.pathsFor(endpoint).cookies, 'utf8')).not.toContain('short');
  });

  it('answers undefined once every cookie is gone', async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'only', value: '1' }]);
    await store.applySetCookies(endpoint, url, ['only=; Max-Age=0; Path=/']);
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBeUndefined();
  });
});

describe('the jar read once a turn (src/store/turn-memo.ts)', () => {
  const endpoint = 'http://127.0.0.1:4000';
  const url = new URL(`${endpoint}/api/items`);
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it("lists the cookies and builds the header from one read of cookies.json, and sees another process's write from the next turn", async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v1' }]);
    await nextTurn();
    const reads = jest.spyOn(fsCalls, 'readTextSync');
    try {
      // api info in one turn: the cookie list, then the check's Cookie header.
      expect((await store.listCookies(endpoint)).map((c) => c.value)).toEqual(['v1']);
      await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v1');
      expect(reads).toHaveBeenCalledTimes(1);
      // Another process rewrites the jar (here: a copy of it, as another store would write it).
      await newStore().applySetCookies(endpoint, url, ['session=v2; Path=/']);
      await nextTurn();
      await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v2');
      expect(reads).toHaveBeenCalledTimes(3);
    } finally {
      reads.mockRestore();
    }
  });

  it('within a turn a read answers what was read; what this process writes is read right after', async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v1' }]);
    await nextTurn();
    const file = store.pathsFor(endpoint).cookies;
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v1');
    // Same turn: what was read stays, even after a change on disk...
    const rewritten = readFileSync(file, 'utf8').replace('"v1"', '"v3"');
    writeFileSync(file, rewritten);
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v1');
    // This process's own writes are read afresh: under the lock, and after it (the store forgets the jar's
    // entries around every write, whatever turn the write ends in).
    await store.applySetCookies(endpoint, url, ['other=1; Path=/']);
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v3; other=1');
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v4' }]);
    await expect(store.getCookieHeader(endpoint, url)).resolves.toBe('session=v4');
  });
});

describe('endpoints side by side', () => {
  const a = 'http://127.0.0.1:4001';
  const b = 'http://localhost:4002';

  it('logging in to or out of one leaves the other byte-identical', async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(a), [{ name: 's', value: 'a1' }]);
    await store.saveLogin(cookieProfile(b), [{ name: 's', value: 'b1' }]);
    await store.setLastEndpoint(b);
    const bFolder = store.pathsFor(b).folder;
    const before = await snapshot(bFolder);

    await store.saveLogin(cookieProfile(a), [{ name: 's', value: 'a2' }]);
    await store.applySetCookies(a, new URL(a), ['t=a3']);
    expect(await snapshot(bFolder)).toEqual(before);
    await expect(store.removeEndpoint(a)).resolves.toBe(true);
    expect(await snapshot(bFolder)).toEqual(before);

    await expect(store.getCookieHeader(b, new URL(b))).resolves.toBe('s=b1');
    await expect(store.getProfile(a)).resolves.toBeUndefined();
    await expect(store.listProfiles()).resolves.toEqual([cookieProfile(b)]);
    await expect(store.getLastEndpoint()).resolves.toBe(b); // not pointing at a: kept
  });

  it('removeEndpoint clears lastEndpoint when it pointed there, and is false the second time', async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(a), [{ name: 's', value: 'a1' }]);
    await store.setLastEndpoint(`${a}/`);
    await expect(store.getLastEndpoint()).resolves.toBe(a);
    await expect(store.removeEndpoint(a)).resolves.toBe(true);
    await expect(store.getLastEndpoint()).resolves.toBeUndefined();
    await expect(store.removeEndpoint(a)).resolves.toBe(false);
    await expect(fs.readdir(path.join(home, 'endpoints'))).resolves.toEqual([]);
  });

  it('lists profiles sorted by endpoint', async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(b), []);
    await store.saveLogin(cookieProfile(a), []);
    expect((await store.listProfiles()).map((p) => p.endpoint)).toEqual([a, b]);
  });
});

describe('corrupt files', () => {
  const good = 'http://127.0.0.1:5001';
  const bad = 'https://api.example.com';

  async function twoEndpoints(): Promise<FileCredentialStore> {
    const store = newStore();
    await store.saveLogin(cookieProfile(good), [{ name: 'g', value: '1' }]);
    await store.saveLogin({ endpoint: bad, auth: { type: 'token', token: 'T0KEN-s3cr3t' }, loggedInAt: 'x' });
    await store.saveLogin(cookieProfile(bad), [{ name: 'b', value: 'c00kie-s3cr3t' }]);
    return store;
  }

  async function expectCorrupt(promise: Promise<unknown>, file: string): Promise<void> {
    const error = await rejection(promise);
    expect(error).toBeInstanceOf(CredentialFileError);
    expect(error).toMatchObject({ code: 'E_CORRUPT_FILE', file });
    expect((error as CredentialFileError).message).toContain(file);
    expect((error as CredentialFileError).hint).toEqual(expect.stringContaining(file));
    expect(JSON.stringify((error as CredentialFileError).toJSON())).not.toMatch(/s3cr3t/);
  }

  it.each([
    ['truncated JSON', (text: string) => text.slice(0, text.length / 2)],
    ['not a jar', () => '{"version":"x"}'],
    ['an entry that is not a cookie', () => '{"cookies":[42]}'],
  ])('cookies.json with %s is reported; the other endpoint still works', async (_name, corrupt) => {
    const store = await twoEndpoints();
    const file = store.pathsFor(bad).cookies;
    const original = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, corrupt(original));
    await expectCorrupt(store.getCookieHeader(bad, new URL(bad)), file);
    await expectCorrupt(store.listCookies(bad), file);
    await expectCorrupt(store.applySetCookies(bad, new URL(bad), ['b=2']), file);
    expect(await fs.readFile(file, 'utf8')).toBe(corrupt(original)); // never rewritten
    await expect(store.getCookieHeader(good, new URL(good))).resolves.toBe('g=1');
    await expect(store.getProfile(bad)).resolves.toMatchObject({ endpoint: bad });
  });

  it.each([
    ['truncated JSON', '{"endpoint":"https://api.example.com","auth":{"type":"token","token":"T0KEN-s3cr3t"'],
    ['a wrong shape', '{"endpoint":"https://api.example.com","auth":{"type":"token"},"loggedInAt":"x"}'],
    [
      'a copy of another endpoint',
      '{"endpoint":"http://127.0.0.1:5001","auth":{"type":"none"},"loggedInAt":"x"}',
    ],
  ])('profile.json with %s is reported; listing shows the rest', async (_name, text) => {
    const store = await twoEndpoints();
    const file = store.pathsFor(bad).profile;
    await fs.writeFile(file, text);
    await expectCorrupt(store.getProfile(bad), file);
    const { profiles, problems } = await store.listProfilesWithProblems();
    expect(profiles).toEqual([cookieProfile(good)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'E_CORRUPT_FILE', file });
    await expect(store.listProfiles()).resolves.toEqual([cookieProfile(good)]);
    await expect(store.getProfile(good)).resolves.toEqual(cookieProfile(good));
  });

  it.each(['oauth2-proxy', 'mod_auth_openidc', 'unknown', 'pomerium', 'cloudflare-access', 'authentik'])(
    'profile.json naming the auth proxy %s (older kinds and the new ones) is read',
    async (proxy) => {
      const store = await twoEndpoints();
      const file = store.pathsFor(bad).profile;
      await fs.writeFile(
        file,
        JSON.stringify({ endpoint: bad, auth: { type: 'cookies' }, loggedInAt: 'x', proxy }),
      );
      await expect(store.getProfile(bad)).resolves.toMatchObject({ endpoint: bad, proxy });
    },
  );

  it('profile.json naming an auth proxy kind it does not know is reported', async () => {
    const store = await twoEndpoints();
    const file = store.pathsFor(bad).profile;
    await fs.writeFile(
      file,
      JSON.stringify({ endpoint: bad, auth: { type: 'cookies' }, loggedInAt: 'x', proxy: 'nope' }),
    );
    await expectCorrupt(store.getProfile(bad), file);
  });

  it.each([
    ['truncated JSON', '{"lastEndpoint":"http'],
    ['a wrong type', '{"lastEndpoint":42}'],
    ['an array', '[]'],
  ])('config.json with %s is reported and left alone; logins still work', async (_name, text) => {
    const store = await twoEndpoints();
    await fs.writeFile(store.configFile, text);
    await expectCorrupt(store.getLastEndpoint(), store.configFile);
    await expectCorrupt(store.setLastEndpoint(good), store.configFile);
    await expect(store.removeEndpoint(bad)).resolves.toBe(true); // logout still works
    expect(await fs.readFile(store.configFile, 'utf8')).toBe(text);
    await expect(store.getCookieHeader(good, new URL(good))).resolves.toBe('g=1');
  });

  it('keeps other keys of config.json', async () => {
    const store = newStore();
    await fs.writeFile(store.configFile, '{"future":true}');
    await store.setLastEndpoint(good);
    expect(JSON.parse(await fs.readFile(store.configFile, 'utf8'))).toEqual({
      future: true,
      lastEndpoint: good,
    });
  });
});

describe('locks and failures', () => {
  const endpoint = 'http://127.0.0.1:6001';

  it('recovers a lock left behind by a killed process', async () => {
    const store = newStore(); // retries: 0, so only the stale take-over can succeed
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]);
    const lockPath = lockPathFor(store.pathsFor(endpoint).folder);
    await fs.mkdir(lockPath);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lockPath, old, old);
    await store.applySetCookies(endpoint, new URL(endpoint), ['a=2']);
    await expect(store.getCookieHeader(endpoint, new URL(endpoint))).resolves.toBe('a=2');
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a lock held by a live process as E_LOCK_FAILED and changes nothing', async () => {
    const store = newStore();
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]);
    await fs.mkdir(lockPathFor(store.pathsFor(endpoint).folder));
    const error = await rejection(store.applySetCookies(endpoint, new URL(endpoint), ['a=2']));
    expect(error).toMatchObject({ code: 'E_LOCK_FAILED' });
    await expect(store.getCookieHeader(endpoint, new URL(endpoint))).resolves.toBe('a=1');
    // A lock folder is not mistaken for an endpoint.
    await expect(store.listProfilesWithProblems()).resolves.toEqual({
      profiles: [cookieProfile(endpoint)],
      problems: [],
    });
  });

  it('reports E_WRITE_FAILED when the endpoints folder is blocked by a file', async () => {
    const store = newStore();
    await fs.writeFile(path.join(home, 'endpoints'), 'oops');
    const error = await rejection(store.saveLogin(cookieProfile(endpoint), [{ name: 'a', value: '1' }]));
    expect(error).toBeInstanceOf(CredentialFileError);
    expect(error).toMatchObject({ code: 'E_WRITE_FAILED' });
    await expect(store.removeEndpoint(endpoint)).resolves.toBe(false);
  });
});

describe('jarVersion (the change signal for caches)', () => {
  const endpoint = 'http://127.0.0.1:41234';

  it('changes when any process rewrites the jar, and only then', async () => {
    const store = newStore();
    const version = store.jarVersion(endpoint);
    await expect(version()).resolves.toBe('missing:ENOENT');
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v1' }]);
    const first = await version();
    expect(first).not.toMatch(/^missing/);
    await expect(version()).resolves.toBe(first);
    // another process (here: another store object on the same home) logs in again
    await newStore().saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v2' }]);
    await expect(version()).resolves.not.toBe(first);
  });

  it('jarVersionSync gives the same values without an await', async () => {
    const store = newStore();
    const version = store.jarVersion(endpoint);
    const now = store.jarVersionSync(endpoint);
    expect(now()).toBe('missing:ENOENT');
    await store.saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v1' }]);
    const first = now();
    expect(first).toBe(await version());
    await newStore().saveLogin(cookieProfile(endpoint), [{ name: 'session', value: 'v2' }]);
    expect(now()).not.toBe(first);
    expect(now()).toBe(await version());
  });
});

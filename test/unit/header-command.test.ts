import { headerCommand } from '../../src/cli/commands/header-command';
import type { CredentialStore, EndpointProfile } from '../../src/store/credential-types';

const ENDPOINT = 'https://api.example.com';

function fakeStore(profile: EndpointProfile | undefined, cookie?: string): CredentialStore {
  return {
    home: '/nowhere',
    getProfile: async () => profile,
    listProfiles: async () => [],
    saveLogin: async () => undefined,
    removeEndpoint: async () => false,
    getCookieHeader: async () => cookie,
    applySetCookies: async () => undefined,
    listCookies: async () => [],
    getLastEndpoint: async () => ENDPOINT,
    setLastEndpoint: async () => undefined,
  };
}

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

const tokenProfile: EndpointProfile = {
  endpoint: ENDPOINT,
  auth: { type: 'token', token: 'secret-token' },
  loggedInAt: 'x',
};

describe('headerCommand', () => {
  it('refuses to print to a terminal (exit 2, a hint), and prints nothing', async () => {
    const stdout = fakeStream(true);
    const run = headerCommand(
      { env: {}, store: fakeStore(tokenProfile), stdout, stderr: fakeStream(false) },
      {},
    );
    await expect(run).rejects.toMatchObject({ exitCode: 2, hint: expect.stringContaining('--force') });
    // The advice keeps the credential off curl's command line (ps): a pipe into -H @-, not -H "$(…)".
    await expect(run).rejects.toMatchObject({ hint: expect.stringContaining('| curl -H @-') });
    await expect(run).rejects.toMatchObject({ hint: expect.not.stringContaining('$(') });
    expect(stdout.text).toBe('');
  });

  it('prints to a terminal with --force', async () => {
    const stdout = fakeStream(true);
    await headerCommand(
      { env: {}, store: fakeStore(tokenProfile), stdout, stderr: fakeStream(false) },
      { force: true },
    );
    expect(stdout.text).toBe('Authorization: Bearer secret-token\n');
  });

  it('treats a cookie login whose cookies all expired as an expired session (exit 4)', async () => {
    const cookies: EndpointProfile = { endpoint: ENDPOINT, auth: { type: 'cookies' }, loggedInAt: 'x' };
    const stdout = fakeStream(false);
    const run = headerCommand(
      { env: {}, store: fakeStore(cookies, undefined), stdout, stderr: fakeStream(false) },
      {},
    );
    await expect(run).rejects.toMatchObject({ exitCode: 4 });
    expect(stdout.text).toBe('');
  });

  it('prints the Cookie header when the jar has cookies', async () => {
    const cookies: EndpointProfile = { endpoint: ENDPOINT, auth: { type: 'cookies' }, loggedInAt: 'x' };
    const stdout = fakeStream(false);
    await headerCommand(
      { env: {}, store: fakeStore(cookies, 'a=1; b=2'), stdout, stderr: fakeStream(false) },
      {},
    );
    expect(stdout.text).toBe('Cookie: a=1; b=2\n');
  });
});

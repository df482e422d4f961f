/** What `exec`'s command finds in its environment (src/cli/exec-environment.ts). */
import { commandEnvironment } from '../../src/cli/exec-environment';

const PROXY = { url: 'http://127.0.0.1:4242', endpoint: 'https://api.example.com', secret: undefined };

describe('commandEnvironment', () => {
  it("adds the proxy's URL and the endpoint to cookie-bridge's own environment", () => {
    const env = commandEnvironment(
      { PATH: '/bin', HOME: '/h', COOKIE_BRIDGE_ENDPOINT: 'https://other' },
      PROXY,
    );
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/h',
      COOKIE_BRIDGE_URL: 'http://127.0.0.1:4242',
      COOKIE_BRIDGE_ENDPOINT: 'https://api.example.com',
    });
  });

  it('passes the secret only when there is one, never one left over from an outer run', () => {
    expect(commandEnvironment({ COOKIE_BRIDGE_SECRET: 'stale' }, PROXY)).not.toHaveProperty(
      'COOKIE_BRIDGE_SECRET',
    );
    expect(commandEnvironment({}, { ...PROXY, secret: 's3cr3t' }).COOKIE_BRIDGE_SECRET).toBe('s3cr3t');
  });

  it.each([
    [{ HTTPS_PROXY: 'http://proxy:3128' }, '127.0.0.1', '127.0.0.1'],
    [
      { http_proxy: 'http://proxy:3128', NO_PROXY: '.corp.example' },
      '.corp.example,127.0.0.1',
      '.corp.example,127.0.0.1',
    ],
    [{ ALL_PROXY: 'socks5://p:1080', no_proxy: 'a, b', NO_PROXY: 'c' }, 'c,127.0.0.1', 'a,b,127.0.0.1'],
    [
      { HTTP_PROXY: 'http://p:1', NO_PROXY: 'localhost,127.0.0.1' },
      'localhost,127.0.0.1',
      'localhost,127.0.0.1',
    ],
    [{ HTTP_PROXY: 'http://p:1', NO_PROXY: '*' }, '*', '*'],
  ])('with a forward proxy set (%j), 127.0.0.1 bypasses it', (env, upper, lower) => {
    const result = commandEnvironment(env, PROXY);
    expect({ NO_PROXY: result.NO_PROXY, no_proxy: result.no_proxy }).toEqual({
      NO_PROXY: upper,
      no_proxy: lower,
    });
  });

  it('leaves NO_PROXY alone when no forward proxy is set', () => {
    expect(commandEnvironment({ NO_PROXY: 'x' }, PROXY)).toMatchObject({ NO_PROXY: 'x' });
    expect(commandEnvironment({ HTTP_PROXY: '' }, PROXY)).not.toHaveProperty('NO_PROXY');
  });
});

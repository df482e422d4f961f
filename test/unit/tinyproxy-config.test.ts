/** The tinyproxy.conf the kit writes for the forward-proxy e2e suite (fixtures/real-components/tinyproxy.ts). */
import { renderTinyproxyConfig } from '../../fixtures/real-components/tinyproxy';

describe('renderTinyproxyConfig', () => {
  it('listens on loopback only, allows only 127.0.0.1 and logs every request and CONNECT', () => {
    const config = renderTinyproxyConfig({}, 3128, '/tmp/tp', 'nobody', 'nogroup');
    expect(config.split('\n')).toEqual(
      expect.arrayContaining([
        'User nobody',
        'Group nogroup',
        'Port 3128',
        'Listen 127.0.0.1',
        'Allow 127.0.0.1',
        'LogLevel Connect',
        'LogFile "/tmp/tp/logs/access.log"',
        'PidFile "/tmp/tp/logs/tinyproxy.pid"',
      ]),
    );
    expect(config).not.toMatch(/ConnectPort|BasicAuth/);
  });

  it('restricts CONNECT to the given ports and asks for Basic credentials', () => {
    const config = renderTinyproxyConfig(
      { connectPorts: [443, 8443], basicAuth: { user: 'alice', password: 'pa55-w0rd' } },
      3128,
      '/tmp/tp',
    );
    expect(config).toContain('ConnectPort 443\nConnectPort 8443\n');
    expect(config).toContain('BasicAuth alice pa55-w0rd\n');
    expect(config).not.toContain('User ');
  });

  it('refuses credentials that would break the config line', () => {
    expect(() =>
      renderTinyproxyConfig({ basicAuth: { user: 'alice', password: 'two words' } }, 3128, '/tmp/tp'),
    ).toThrow(/letters, digits/);
  });
});

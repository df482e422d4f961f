/** The redis.conf the kit writes for the relay store suites (fixtures/real-components/redis-server.ts). */
import { renderRedisConfig } from '../../fixtures/real-components/redis-server';

describe('renderRedisConfig', () => {
  it('listens on loopback only, persists every write (appendonly) and keeps everything in its folder', () => {
    const lines = renderRedisConfig({}, 6390, '/tmp/rd').split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'bind 127.0.0.1',
        'port 6390',
        'daemonize no',
        'appendonly yes',
        'dir "/tmp/rd/data"',
        'pidfile "/tmp/rd/logs/redis.pid"',
        'logfile "/tmp/rd/logs/redis.log"',
      ]),
    );
    expect(lines.join('\n')).not.toMatch(/requirepass|^user |tls-/m);
  });

  it('adds a password, an ACL user and TLS (plain port off) when asked', () => {
    const config = renderRedisConfig(
      {
        password: 'pw-1',
        aclUser: { name: 'relay', password: 'pw-2' },
        tls: {
          certificate: { certFile: '/ca/s.crt', keyFile: '/ca/s.key' },
          caFile: '/ca/ca.crt',
          caPem: '',
        },
      },
      6391,
      '/tmp/rd',
    ).split('\n');
    expect(config).toEqual(
      expect.arrayContaining([
        'requirepass pw-1',
        'user relay on >pw-2 ~* &* +@all',
        'port 0',
        'tls-port 6391',
        'tls-cert-file "/ca/s.crt"',
        'tls-key-file "/ca/s.key"',
        'tls-ca-cert-file "/ca/ca.crt"',
      ]),
    );
  });

  it('refuses a password that would break the config line', () => {
    expect(() => renderRedisConfig({ password: 'a b\nuser evil on' }, 6390, '/tmp/rd')).toThrow(
      /letters, digits/,
    );
  });
});

import * as os from 'node:os';
import * as path from 'node:path';
import envPaths from 'env-paths';
import { resolveConfigHome } from '../../src/store/config-home';

describe('resolveConfigHome', () => {
  const home = os.homedir();

  it.each([
    ['COOKIE_BRIDGE_HOME wins', { COOKIE_BRIDGE_HOME: '/srv/cb', XDG_CONFIG_HOME: '/xdg' }, '/srv/cb'],
    [
      'a relative COOKIE_BRIDGE_HOME is made absolute',
      { COOKIE_BRIDGE_HOME: 'cb-home' },
      path.resolve('cb-home'),
    ],
    [
      'an empty COOKIE_BRIDGE_HOME is ignored',
      { COOKIE_BRIDGE_HOME: '', XDG_CONFIG_HOME: '/xdg' },
      '/xdg/cookie-bridge',
    ],
    [
      'a blank COOKIE_BRIDGE_HOME is ignored',
      { COOKIE_BRIDGE_HOME: '  ' },
      path.join(home, '.config', 'cookie-bridge'),
    ],
    ['XDG_CONFIG_HOME is honoured', { XDG_CONFIG_HOME: '/xdg' }, '/xdg/cookie-bridge'],
    [
      'a relative XDG_CONFIG_HOME is ignored (XDG spec)',
      { XDG_CONFIG_HOME: 'rel' },
      path.join(home, '.config', 'cookie-bridge'),
    ],
    ['nothing set: ~/.config/cookie-bridge', {}, path.join(home, '.config', 'cookie-bridge')],
  ])('%s', (_name, env: NodeJS.ProcessEnv, expected) => {
    expect(resolveConfigHome(env, 'linux')).toBe(expected);
  });

  it('matches env-paths on Linux when the environments agree', () => {
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = '/xdg-from-process';
    try {
      expect(resolveConfigHome({ XDG_CONFIG_HOME: '/xdg-from-process' }, 'linux')).toBe(
        envPaths('cookie-bridge', { suffix: '' }).config,
      );
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('uses env-paths on macOS and Windows, still under the override first', () => {
    expect(resolveConfigHome({}, 'darwin')).toBe(envPaths('cookie-bridge', { suffix: '' }).config);
    expect(resolveConfigHome({ COOKIE_BRIDGE_HOME: '/srv/cb' }, 'win32')).toBe('/srv/cb');
  });
});

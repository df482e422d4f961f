import * as os from 'node:os';
import * as path from 'node:path';
import envPaths from 'env-paths';
import { resolveConfigHome, resolveServeStateDir } from '../../src/store/config-home';
import { homeFolder } from '../../src/store/home-folder';

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

describe('resolveServeStateDir (serve --service-accounts without --state-dir)', () => {
  const home = os.homedir();

  it.each([
    [
      'COOKIE_BRIDGE_STATE_DIR wins',
      { COOKIE_BRIDGE_STATE_DIR: '/srv/sa', XDG_DATA_HOME: '/xdg' },
      '/srv/sa',
    ],
    ['a relative one is made absolute', { COOKIE_BRIDGE_STATE_DIR: 'sa' }, path.resolve('sa')],
    [
      'a blank one is ignored',
      { COOKIE_BRIDGE_STATE_DIR: ' ', XDG_DATA_HOME: '/xdg' },
      '/xdg/cookie-bridge/serve',
    ],
    ['XDG_DATA_HOME is honoured', { XDG_DATA_HOME: '/xdg' }, '/xdg/cookie-bridge/serve'],
    [
      'a relative XDG_DATA_HOME is ignored',
      { XDG_DATA_HOME: 'rel' },
      path.join(home, '.local', 'share', 'cookie-bridge', 'serve'),
    ],
    [
      'COOKIE_BRIDGE_HOME (logins) is not the state dir',
      { COOKIE_BRIDGE_HOME: '/cb' },
      path.join(home, '.local', 'share', 'cookie-bridge', 'serve'),
    ],
  ])('%s', (_name, env: NodeJS.ProcessEnv, expected) => {
    expect(resolveServeStateDir(env, 'linux')).toBe(expected);
  });

  it("on macOS and Windows: env-paths' data folder", () => {
    expect(resolveServeStateDir({}, 'darwin')).toBe(
      path.join(envPaths('cookie-bridge', { suffix: '' }).data, 'serve'),
    );
  });
});

describe('homeFolder', () => {
  const saved = process.env.HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.HOME;
    else process.env.HOME = saved;
  });

  it('answers as os.homedir() does on Unix: $HOME when set and not empty, else the account database', () => {
    process.env.HOME = '/home/someone-else';
    expect(homeFolder()).toBe('/home/someone-else');
    process.env.HOME = '';
    expect(homeFolder()).toBe(os.homedir());
    delete process.env.HOME;
    expect(homeFolder()).toBe(os.homedir());
    expect(homeFolder()).not.toBe('');
  });
});

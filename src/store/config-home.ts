import { isAbsolute, join, resolve } from 'node:path';
import { homeFolder } from './home-folder';

/** The environment variable that overrides where cookie-bridge keeps its logins. */
export const CONFIG_HOME_ENV = 'COOKIE_BRIDGE_HOME';

const APP_NAME = 'cookie-bridge';

/**
 * The folder cookie-bridge keeps its logins in:
 * 1. `$COOKIE_BRIDGE_HOME` when set and not empty (made absolute against the current folder);
 * 2. on Linux and other Unixes `$XDG_CONFIG_HOME/cookie-bridge` when XDG_CONFIG_HOME is an absolute path,
 *    else `~/.config/cookie-bridge`;
 * 3. on macOS and Windows the platform's config folder as env-paths reports it
 *    (`~/Library/Preferences/cookie-bridge`, `%APPDATA%\cookie-bridge\Config`).
 *
 * Only `env` is read (not process.env), so callers and tests control the result.
 */
export function resolveConfigHome(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string {
  const override = env[CONFIG_HOME_ENV];
  if (override !== undefined && override.trim() !== '') return resolve(override);
  if (platform === 'darwin' || platform === 'win32') return loadEnvPaths()(APP_NAME, { suffix: '' }).config;
  // env-paths reads process.env itself; the same XDG rule is applied here to the env we were given.
  // The XDG Base Directory spec says relative paths are invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homeFolder(), '.config');
  return join(base, APP_NAME);
}

/** The environment variable that overrides where `serve --service-accounts` keeps its keys and registry. */
export const STATE_DIR_ENV = 'COOKIE_BRIDGE_STATE_DIR';

/**
 * The folder `serve --service-accounts` keeps its signing keys and registry in (without --state-dir):
 * 1. `$COOKIE_BRIDGE_STATE_DIR` when set and not empty (made absolute against the current folder);
 * 2. on Linux and other Unixes `$XDG_DATA_HOME/cookie-bridge/serve` when XDG_DATA_HOME is an absolute path,
 *    else `~/.local/share/cookie-bridge/serve`;
 * 3. on macOS and Windows the platform's data folder as env-paths reports it, plus `serve`.
 */
export function resolveServeStateDir(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string {
  const override = env[STATE_DIR_ENV];
  if (override !== undefined && override.trim() !== '') return resolve(override);
  if (platform === 'darwin' || platform === 'win32') {
    return join(loadEnvPaths()(APP_NAME, { suffix: '' }).data, 'serve');
  }
  const xdg = env.XDG_DATA_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homeFolder(), '.local', 'share');
  return join(base, APP_NAME, 'serve');
}

/** env-paths reads the home and temp folders when it loads: only where it is used (macOS, Windows, serve). */
const loadEnvPaths = (): typeof import('env-paths') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('env-paths') as typeof import('env-paths');

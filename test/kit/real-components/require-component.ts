import { existsSync } from 'node:fs';

/** What the e2e suite needs from Debian; `.ci/run` installs them with apt-get. */
export const REAL_COMPONENT_PATHS = {
  apache2: '/usr/sbin/apache2',
  modAuthOpenidc: '/usr/lib/apache2/modules/mod_auth_openidc.so',
  nginx: '/usr/sbin/nginx',
  chromium: '/usr/bin/chromium',
} as const;

/**
 * Whether a real component is installed. When it is missing: throws on CI (`CI=true`), where a skipped e2e suite
 * would hide a broken install step; elsewhere prints a loud warning and returns false so the suite can skip.
 */
export function requireComponent(name: string, binaryPath: string): boolean {
  if (existsSync(binaryPath)) return true;
  const message =
    `real component "${name}" is missing: ${binaryPath} does not exist. ` +
    'Install it with: apt-get install -y chromium apache2 libapache2-mod-auth-openidc nginx';
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: e2e tests may not be skipped)`);
  console.warn(`\n*** WARNING: ${message}\n*** The e2e tests that need it are SKIPPED on this machine.\n`);
  return false;
}

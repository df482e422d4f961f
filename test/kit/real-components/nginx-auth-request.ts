import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { startLoggedServer } from './start-logged-server';
import { makeComponentDir, removeComponentDir, unprivilegedUserIfRoot } from './component-dir';
import { configSafe, renderFixtureTemplate } from './config-template';
import { findFreePort } from './readiness';
import { REAL_COMPONENT_PATHS } from './require-component';
import type { RunningComponent } from './running-component';

export interface StartNginxAuthRequestOptions {
  /** Origin of the oauth2-proxy (or look-alike) that answers /oauth2/auth, /oauth2/start, … */
  oauth2ProxyUrl: string;
  /** Origin of the protected app. */
  upstream: string;
  /**
   * Path prefixes proxied without auth_request, e.g. `/api/health`, `/cookie-bridge/relay/`: each is the README's
   * recipe, `location ^~ P { proxy_pass <upstream>P; … }` with a URI part, so nginx forwards its normalised path
   * (the one it matched) rather than the raw one, and drops the identity header.
   */
  exemptPaths?: string[];
  /** A header nginx adds to every upstream request (serve's --proxy-secret-file / --proxy-secret-header). */
  proxySecret?: { header: string; value: string };
  /** Default: a free port. */
  port?: number;
  startupTimeoutMs?: number;
}

/** nginx with `auth_request /oauth2/auth` in front of `upstream`, as its own instance under a temp folder. */
export async function startNginxAuthRequest(
  options: StartNginxAuthRequestOptions,
): Promise<RunningComponent> {
  const port = options.port ?? (await findFreePort());
  const dir = makeComponentDir('nginx');
  const configFile = join(dir, 'nginx.conf');
  try {
    mkdirSync(join(dir, 'logs'));
    // nginx creates its temp folders in here and hands them to the worker user.
    mkdirSync(join(dir, 'tmp'), { mode: 0o755 });
    writeFileSync(configFile, renderNginxConfig(options, port, dir, unprivilegedUserIfRoot()));
  } catch (error) {
    removeComponentDir(dir);
    throw error;
  }

  return startLoggedServer({
    // /oauth2/auth answers 401 or 202 once nginx and the proxy behind it are both up (502 while the proxy is not).
    name: 'nginx',
    command: REAL_COMPONENT_PATHS.nginx,
    args: ['-p', `${dir}/`, '-c', configFile, '-e', join(dir, 'logs', 'error.log'), '-g', 'daemon off;'],
    dir,
    port,
    readinessPath: '/oauth2/auth',
    ...(options.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: options.startupTimeoutMs }),
  });
}

/** The rendered nginx config; exported for unit tests and for printing a config in the demo. */
export function renderNginxConfig(
  options: StartNginxAuthRequestOptions,
  port: number,
  prefix: string,
  user: { name: string; group: string } | undefined,
): string {
  const upstream = configSafe(new URL(options.upstream).origin, 'upstream');
  const secret = options.proxySecret;
  if (secret !== undefined && !/^[A-Za-z0-9-]+$/.test(secret.header))
    throw new Error('bad secret header name');
  const secretLines =
    secret === undefined
      ? []
      : [`proxy_set_header ${secret.header} "${configSafe(secret.value, 'proxy secret')}";`];
  const upstreamProxy = (extraLines: string[] = [], uri = ''): string =>
    [
      `proxy_pass ${upstream}${uri};`,
      'proxy_http_version 1.1;',
      'proxy_set_header Host $http_host;',
      'proxy_set_header X-Real-IP $remote_addr;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_set_header Upgrade $http_upgrade;',
      'proxy_set_header Connection $connection_upgrade;',
      'proxy_buffering off;',
      ...secretLines,
      ...extraLines,
    ]
      .map((line) => `      ${line}`)
      .join('\n');
  const exemptLocations = (options.exemptPaths ?? []).map((path) => {
    if (!path.startsWith('/')) throw new Error(`exempt path must start with /: ${path}`);
    // An empty value makes nginx drop the header, so a client cannot claim an identity on exempted paths.
    const dropIdentity = 'proxy_set_header X-Auth-Request-Email "";';
    const safePath = configSafe(path, 'exempt path');
    return [`    location ^~ ${safePath} {`, upstreamProxy([dropIdentity], safePath), '    }'].join('\n');
  });
  return renderFixtureTemplate('nginx/auth-request.conf', {
    RUN_AS: user === undefined ? '' : `user ${user.name} ${user.group};`,
    PREFIX: configSafe(prefix, 'prefix'),
    PORT: String(port),
    OAUTH2_PROXY_URL: configSafe(new URL(options.oauth2ProxyUrl).origin, 'oauth2 proxy url'),
    EXEMPT_LOCATIONS: exemptLocations.join('\n'),
    UPSTREAM_PROXY: upstreamProxy(),
  });
}

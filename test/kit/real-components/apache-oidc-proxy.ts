import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { startLoggedServer } from './start-logged-server';
import {
  makeComponentDir,
  makeWritableDir,
  removeComponentDir,
  unprivilegedUserIfRoot,
} from './component-dir';
import { configSafe, renderFixtureTemplate } from './config-template';
import { findFreePort } from './readiness';
import { REAL_COMPONENT_PATHS } from './require-component';
import type { RunningComponent } from './running-component';

export const APACHE_MODULES_DIR = '/usr/lib/apache2/modules';
/** mod_auth_openidc's redirect URI path on the proxy (register `apacheOidcRedirectUri(port)` with the provider). */
export const APACHE_OIDC_REDIRECT_PATH = '/oidc/redirect_uri';

/** The redirect URI an Apache proxy on `port` uses; the OpenID client must be registered with it. */
export function apacheOidcRedirectUri(port: number): string {
  return `http://127.0.0.1:${port}${APACHE_OIDC_REDIRECT_PATH}`;
}

export interface StartApacheOidcProxyOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Origin of the protected app, e.g. `http://127.0.0.1:4321`. */
  upstream: string;
  /** Header carrying the user's e-mail claim upstream; default `X-Auth-Request-Email`. */
  identityHeader?: string;
  /**
   * `true`: the naive recipe `RequestHeader set <header> "%{OIDC_CLAIM_email}e"` without the
   * `expr=-n %{reqenv:OIDC_CLAIM_email}` condition, so on exempt paths (no claim) the upstream gets
   * mod_headers' literal `(null)`. Default false: the header is set only when the claim is.
   */
  identityHeaderAlways?: boolean;
  /** Path prefixes served without a session, e.g. `/api/health`, `/cookie-bridge/relay/` (identity header unset). */
  exemptPaths?: string[];
  /** A header Apache adds to every upstream request (serve's --proxy-secret-file / --proxy-secret-header). */
  proxySecret?: { header: string; value: string };
  /** OIDCSessionInactivityTimeout in seconds (mod_auth_openidc's default is 300). */
  sessionInactivityTimeout?: number;
  /** OIDCSessionType; default `server-cache` (cookie is a session id, state in shared memory). */
  sessionType?: 'server-cache' | 'client-cookie';
  /** OIDCXForwardedHeaders, for when another proxy sits in front of this one. */
  xForwardedHeaders?: Array<'X-Forwarded-Host' | 'X-Forwarded-Port' | 'X-Forwarded-Proto' | 'Forwarded'>;
  /** Port to listen on; pick it beforehand with findFreePort() to register the redirect URI. Default: a free one. */
  port?: number;
  /** Apache LogLevel; default `warn auth_openidc:info`. */
  logLevel?: string;
  startupTimeoutMs?: number;
}

/** Apache httpd with mod_auth_openidc in front of `upstream`, as its own instance under a temp folder. */
export async function startApacheOidcProxy(options: StartApacheOidcProxyOptions): Promise<RunningComponent> {
  const port = options.port ?? (await findFreePort());
  const dir = makeComponentDir('apache');
  const configFile = join(dir, 'apache2.conf');
  try {
    const user = unprivilegedUserIfRoot();
    mkdirSync(join(dir, 'logs'));
    makeWritableDir(join(dir, 'run'), user);
    writeFileSync(configFile, renderApacheConfig(options, port, dir, user));
  } catch (error) {
    removeComponentDir(dir);
    throw error;
  }

  return startLoggedServer({
    // Debian's apache2 binary reads nothing from /etc/apache2/envvars when started directly.
    name: 'apache2',
    command: REAL_COMPONENT_PATHS.apache2,
    args: ['-d', dir, '-f', configFile, '-DFOREGROUND'],
    dir,
    port,
    readinessPath: '/',
    ...(options.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: options.startupTimeoutMs }),
  });
}

/** The rendered httpd config; exported for unit tests and for printing a config in the demo. */
export function renderApacheConfig(
  options: StartApacheOidcProxyOptions,
  port: number,
  serverRoot: string,
  user: { name: string; group: string } | undefined,
): string {
  const identityHeader = options.identityHeader ?? 'X-Auth-Request-Email';
  if (!/^[A-Za-z0-9-]+$/.test(identityHeader)) throw new Error(`bad identity header name ${identityHeader}`);
  const timeout = options.sessionInactivityTimeout ?? 300;
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error(`bad sessionInactivityTimeout ${timeout}`);
  const exemptLocations = (options.exemptPaths ?? []).map((path) => {
    if (!path.startsWith('/')) throw new Error(`exempt path must start with /: ${path}`);
    return [
      `<Location "${configSafe(path, 'exempt path')}">`,
      '  AuthType None',
      '  Require all granted',
      // The recipe removes the identity header on exempt routes; the naive one (identityHeaderAlways) does not.
      ...(options.identityHeaderAlways === true ? [] : [`  RequestHeader unset ${identityHeader}`]),
      '</Location>',
    ].join('\n');
  });
  return renderFixtureTemplate('apache/oidc-proxy.conf', {
    SERVER_ROOT: configSafe(serverRoot, 'server root'),
    PORT: String(port),
    LOG_LEVEL: options.logLevel ?? 'warn auth_openidc:info',
    RUN_AS: user === undefined ? '' : `User ${user.name}\nGroup ${user.group}`,
    MODULES_DIR: APACHE_MODULES_DIR,
    ISSUER: configSafe(options.issuer.replace(/\/+$/, ''), 'issuer'),
    CLIENT_ID: configSafe(options.clientId, 'client id'),
    CLIENT_SECRET: configSafe(options.clientSecret, 'client secret'),
    REDIRECT_PATH: APACHE_OIDC_REDIRECT_PATH,
    CRYPTO_PASSPHRASE: randomBytes(24).toString('hex'),
    SESSION_TYPE: options.sessionType ?? 'server-cache',
    SESSION_INACTIVITY_TIMEOUT: String(timeout),
    IDENTITY_HEADER: identityHeader,
    IDENTITY_HEADER_CONDITION:
      options.identityHeaderAlways === true ? '' : ' "expr=-n %{reqenv:OIDC_CLAIM_email}"',
    X_FORWARDED_HEADERS:
      options.xForwardedHeaders === undefined || options.xForwardedHeaders.length === 0
        ? ''
        : `OIDCXForwardedHeaders ${options.xForwardedHeaders.join(' ')}`,
    EXEMPT_LOCATIONS: exemptLocations.join('\n'),
    PROXY_SECRET: proxySecretLine(options.proxySecret),
    UPSTREAM: configSafe(new URL(options.upstream).origin, 'upstream'),
  });
}

function proxySecretLine(secret: { header: string; value: string } | undefined): string {
  if (secret === undefined) return '';
  if (!/^[A-Za-z0-9-]+$/.test(secret.header)) throw new Error(`bad secret header name ${secret.header}`);
  return `RequestHeader set ${secret.header} "${configSafe(secret.value, 'proxy secret')}"`;
}

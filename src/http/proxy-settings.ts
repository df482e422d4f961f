import { ProxyError } from '../errors';
import { networkErrorCode } from './upstream-errors';
import { hasUrlScheme } from '../protocol/endpoint';

/**
 * Which forward proxy an outbound request goes through, read from the environment the way curl reads it
 * (curl(1) ENVIRONMENT, CURLOPT_NOPROXY; lib/url.c detect_proxy, lib/noproxy.c), and what its failures mean.
 * Pure: the one HTTP client (http-request.ts) builds the dispatchers.
 *
 * - `<scheme>_proxy` (`http_proxy`, `https_proxy`), lower case first, then upper case (`HTTP_PROXY` too, as
 *   the issue and most tools other than curl read it); then `all_proxy`, `ALL_PROXY`. An empty value counts as
 *   unset. Inside a CGI request (REQUEST_METHOD set) upper-case `HTTP_PROXY` is ignored, as curl always ignores
 *   it and Go's net/http does under CGI: there it is the client's `Proxy:` header ("httpoxy").
 * - The value is `[http://|https://][user:password@]host[:port]`; no scheme means http://, no port means 1080
 *   (443 for an https:// proxy), like curl. Credentials go to the proxy as Proxy-Authorization: Basic.
 * - `no_proxy` (else `NO_PROXY`) alone decides what bypasses the proxy; nothing bypasses it implicitly (not
 *   even localhost). A comma (or blank) separated list: `*` alone matches every host; a name matches itself and
 *   every name under it (`example.com` and `.example.com` both match `example.com` and `www.example.com`, never
 *   `notexample.com`), case-insensitively, trailing dots ignored; IP addresses match IP addresses only, with
 *   CIDR (`10.0.0.0/8`, `fd00::/8`); IPv6 without brackets. One addition to curl (which never matches such an
 *   entry): `host:port` (`[::1]:8443` for IPv6) matches that host on that port only.
 */

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

export type ProxyRoute =
  | {
      kind: 'direct';
      /** The variable that sent it direct (no_proxy or NO_PROXY); undefined: no proxy set. */ noProxyVariable?: string;
    }
  | {
      kind: 'proxy';
      /** The proxy, credentials included: only for the dispatcher. */
      url: URL;
      /** The proxy without credentials, for messages: `http://proxy.corp:3128`. */
      label: string;
      /** The variable it came from (`https_proxy`, `HTTPS_PROXY`, `http_proxy`, `all_proxy`…). */
      variable: string;
    };

/** The route for `target`; throws ProxyError E_PROXY_INVALID when the proxy variable is not a usable URL. */
export function resolveProxy(target: URL, env: ProxyEnv): ProxyRoute {
  const found = proxyVariable(target.protocol, env);
  if (found === undefined) return { kind: 'direct' };
  const noProxy = firstSet(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy !== undefined && matchesNoProxy(target, noProxy.value)) {
    return { kind: 'direct', noProxyVariable: noProxy.name };
  }
  const url = parseProxyUrl(found.value, found.name);
  return { kind: 'proxy', url, label: proxyLabel(url), variable: found.name };
}

/** How --debug tells which way a request went: `via http://proxy:3128 (https_proxy)`, `direct (NO_PROXY)`. */
export function describeRoute(route: ProxyRoute): string {
  if (route.kind === 'proxy') return `via proxy ${route.label} (${route.variable})`;
  return route.noProxyVariable === undefined ? 'direct' : `direct (${route.noProxyVariable})`;
}

/** Variables that are set but ignored on purpose (HTTP_PROXY inside a CGI request), to say so under --debug. */
export function ignoredProxyVariables(env: ProxyEnv): string[] {
  return isSet(env.HTTP_PROXY) && !isSet(env.http_proxy) && isCgiRequest(env) ? ['HTTP_PROXY'] : [];
}

/** Whether we run inside a CGI request, where HTTP_PROXY is the client's `Proxy:` header, not a setting. */
function isCgiRequest(env: ProxyEnv): boolean {
  return isSet(env.REQUEST_METHOD);
}

/** The proxy variable curl would use for a URL of `protocol` (`http:`, `https:`, `ws:`…). */
function proxyVariable(protocol: string, env: ProxyEnv): { name: string; value: string } | undefined {
  const scheme = protocol.replace(/:$/, '').toLowerCase();
  const own = scheme === 'ws' ? 'http' : scheme === 'wss' ? 'https' : scheme;
  const names =
    own === 'http' && isCgiRequest(env) ? ['http_proxy'] : [`${own}_proxy`, `${own.toUpperCase()}_PROXY`];
  return firstSet(env, [...names, 'all_proxy', 'ALL_PROXY']);
}

function firstSet(env: ProxyEnv, names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (isSet(value)) return { name, value: value.trim() };
  }
  return undefined;
}

function isSet(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** Parses a proxy variable's value like curl; throws ProxyError E_PROXY_INVALID, never echoing credentials. */
export function parseProxyUrl(value: string, variable: string): URL {
  const withScheme = hasUrlScheme(value) ? value : `http://${value}`;
  const scheme = withScheme.slice(0, withScheme.indexOf(':')).toLowerCase();
  const shown = redactProxyValue(value);
  if (scheme !== 'http' && scheme !== 'https') {
    throw new ProxyError(
      'E_PROXY_INVALID',
      shown,
      `${variable}=${shown}: ${scheme}:// proxies are not supported (only http:// and https://)`,
    );
  }
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxyError('E_PROXY_INVALID', shown, `${variable}=${shown} is not a proxy URL`);
  }
  if (url.hostname === '') {
    throw new ProxyError('E_PROXY_INVALID', shown, `${variable}=${shown} names no proxy host`);
  }
  // The URL parser drops a port that is the scheme's default (http://proxy:80): only an absent one is defaulted.
  const authority = withScheme.slice(withScheme.indexOf('//') + 2).split(/[/?#]/, 1)[0] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (!/:\d+$/.test(hostPort)) url.port = scheme === 'https' ? '443' : '1080';
  return url;
}

/** The proxy without credentials or path: what messages and --debug show. */
export function proxyLabel(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/**
 * A proxy variable's raw value with everything up to its last `@` replaced, for messages about a bad value:
 * a password with an unencoded `/`, `?` or `@` in it is still hidden.
 */
export function redactProxyValue(value: string): string {
  return value.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?.*@/is,
    (_match, scheme: string | undefined) => `${scheme ?? ''}***@`,
  );
}

/** Whether `target` bypasses the proxy under a no_proxy list (curl's rules, see the top of this file). */
export function matchesNoProxy(target: URL, noProxy: string): boolean {
  const list = noProxy.trim();
  if (list === '') return false;
  if (list === '*') return true;
  const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const port = target.port === '' ? defaultPort(target.protocol) : Number(target.port);
  const family = loadNet().isIP(host);
  const name = family === 0 ? host.toLowerCase().replace(/\.$/, '') : host;
  for (const entry of list.split(/[\s,]+/)) {
    if (entry === '') continue;
    const { pattern, port: entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (family === 0 ? matchesName(name, pattern) : matchesAddress(name, family, pattern)) return true;
  }
  return false;
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' || protocol === 'wss:' ? 443 : 80;
}

/** `host:port`, `[v6]:port` or `[v6]` → pattern and port; a bare IPv6 address (several colons) has no port. */
function splitPort(entry: string): { pattern: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) {
    const pattern = bracketed[1] ?? '';
    return bracketed[2] === undefined ? { pattern } : { pattern, port: Number(bracketed[2]) };
  }
  const hostPort = /^([^:]+):(\d+)$/.exec(entry);
  if (hostPort !== null) return { pattern: hostPort[1] ?? '', port: Number(hostPort[2]) };
  return { pattern: entry };
}

function matchesName(name: string, pattern: string): boolean {
  const domain = pattern.toLowerCase().replace(/\.$/, '').replace(/^\./, '');
  if (domain === '') return false;
  return name === domain || name.endsWith(`.${domain}`);
}

/** An IP host against an address or CIDR entry; like curl, a missing or 0 prefix means the whole address. */
function matchesAddress(address: string, family: number, pattern: string): boolean {
  const slash = pattern.indexOf('/');
  const network = slash === -1 ? pattern : pattern.slice(0, slash);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (loadNet().isIP(network) !== family) return false;
  const full = family === 6 ? 128 : 32;
  const bits = slash === -1 ? 0 : Number.parseInt(pattern.slice(slash + 1), 10);
  if (Number.isNaN(bits) || bits < 0 || bits > full) return false;
  const list = new (loadNet().BlockList)();
  list.addSubnet(network, bits === 0 ? full : bits, type);
  return list.check(address, type);
}

/** Socket errors that, through a proxy, mean the proxy itself could not be reached. */
const PROXY_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const PROXY_DOWN_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the proxy running?)',
  ENOTFOUND: 'the proxy host name does not resolve (DNS)',
  EAI_AGAIN: 'the proxy host name could not be resolved right now (DNS)',
  EHOSTUNREACH: 'the proxy host is unreachable',
  ENETUNREACH: 'the proxy network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'timed out while connecting to the proxy',
};

/**
 * What a failed request through `route` means when the proxy is to blame: the proxy down (E_PROXY_UNREACHABLE)
 * or answering something else than 200 to CONNECT, or 407 (E_PROXY_REFUSED). undefined: not the proxy's doing
 * (the origin's TLS, a time-out, an abort), for the caller's usual error. Never names the proxy's credentials.
 */
export function proxyFailure(route: ProxyRoute, target: URL, error: unknown): ProxyError | undefined {
  if (route.kind !== 'proxy') return undefined;
  if (error instanceof ProxyError) return error;
  const code = networkErrorCode(error);
  const message = error instanceof Error ? error.message : '';
  const via = `${route.label} (${route.variable})`;
  if (code !== undefined && PROXY_DOWN_CODES.has(code)) {
    return new ProxyError(
      'E_PROXY_UNREACHABLE',
      route.label,
      `cannot reach ${target.origin} through the proxy ${via}: ${PROXY_DOWN_WORDS[code] ?? code}`,
      { cause: error },
    );
  }
  const status = /Proxy response \((\d{3})\)|Proxy Authentication Required \((407)\)/.exec(message);
  if (status === null) return undefined;
  const answered = Number(status[1] ?? status[2]);
  const request =
    target.protocol === 'https:'
      ? `CONNECT ${target.hostname}:${target.port || 443}`
      : `a request for ${target.origin}`;
  return new ProxyError(
    'E_PROXY_REFUSED',
    route.label,
    `the proxy ${via} answered ${answered} to ${request}`,
    answered === 407
      ? {
          cause: error,
          hint: `the proxy wants credentials (or others): put them in the URL, ${route.variable}=http://USER:PASSWORD@host:port`,
        }
      : { cause: error },
  );
}

// node:net loads when a NO_PROXY entry is matched, not at every start-up (`api info --offline` needs none).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadNet = (): typeof import('node:net') => require('node:net') as typeof import('node:net');

/** What `exec`'s command finds in its environment: set by exec, and removed when left over from an outer run. */
export const EXEC_ENV = {
  url: 'COOKIE_BRIDGE_URL',
  endpoint: 'COOKIE_BRIDGE_ENDPOINT',
  secret: 'COOKIE_BRIDGE_SECRET',
} as const;

const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'];
/** The local proxy's host: a forward proxy in the environment must not be asked for it. */
const LOCAL_HOST = '127.0.0.1';

/**
 * The command's environment: cookie-bridge's own, plus where the local proxy is. When a forward proxy is
 * set (HTTP_PROXY, https_proxy…), 127.0.0.1 is added to NO_PROXY and no_proxy, so curl, requests and other
 * clients reach $COOKIE_BRIDGE_URL directly instead of asking the corporate proxy for a loopback address.
 */
export function commandEnvironment(
  env: NodeJS.ProcessEnv,
  proxy: { url: string; endpoint: string; secret: string | undefined },
): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {
    ...env,
    [EXEC_ENV.url]: proxy.url,
    [EXEC_ENV.endpoint]: proxy.endpoint,
  };
  if (proxy.secret === undefined) delete result[EXEC_ENV.secret];
  else result[EXEC_ENV.secret] = proxy.secret;
  if (PROXY_VARIABLES.some((name) => (env[name] ?? '') !== '')) {
    result.NO_PROXY = withLocalHost(env.NO_PROXY ?? env.no_proxy);
    result.no_proxy = withLocalHost(env.no_proxy ?? env.NO_PROXY);
  }
  return result;
}

function withLocalHost(noProxy: string | undefined): string {
  const entries = (noProxy ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.includes('*') || entries.includes(LOCAL_HOST)) return entries.join(',');
  return [...entries, LOCAL_HOST].join(',');
}

import { resolveConfigHome } from '../store/config-home';
import type { CredentialStore } from '../store/credential-types';
import { FileCredentialStore } from '../store/file-credential-store';
import type { Logger } from '../context';
import { createHttpClient, type HttpClient } from '../http/http-request';
import { createTlsTrust } from '../http/tls-options';
import { storedCaForOrigin } from '../store/stored-ca';
import { createForwardingClient, type CookieBridgeClient } from './forwarding-client';
import { resolveEndpoint } from './resolve-endpoint';

export interface CreateClientOptions {
  /** The endpoint; defaults to $COOKIE_BRIDGE_ENDPOINT, then the last endpoint logged in to. */
  endpoint?: string;
  /**
   * Defaults to process.env (read for COOKIE_BRIDGE_HOME, COOKIE_BRIDGE_TOKEN, COOKIE_BRIDGE_ENDPOINT, and the
   * forward-proxy variables https_proxy, HTTPS_PROXY, http_proxy, all_proxy, no_proxy, NO_PROXY).
   */
  env?: NodeJS.ProcessEnv;
  /** Defaults to the on-disk store under the config home. */
  store?: CredentialStore;
  logger?: Logger;
  /**
   * The outbound HTTP client. Default: one that honours the proxy variables of `env` (HTTPS_PROXY, NO_PROXY…)
   * and trusts, beside Node's CAs (and NODE_EXTRA_CA_CERTS), `ca`, $COOKIE_BRIDGE_CA_BUNDLE and the CA
   * `cookie-bridge api login --cacert` stored for the endpoint.
   */
  http?: HttpClient;
  /** A private CA certificate (PEM text) to trust for the endpoint's HTTPS (ignored when `http` is given). */
  ca?: string;
  timeoutMs?: number;
}

/**
 * The Node SDK's entry point: a fetch-like client that replays the credentials `cookie-bridge api login`
 * stored for an endpoint.
 *
 * ```ts
 * const client = await createClient({ endpoint: 'https://api.example.com' });
 * const items = await (await client.fetch('/api/items')).json();
 * ```
 */
export async function createClient(options: CreateClientOptions = {}): Promise<CookieBridgeClient> {
  const env = options.env ?? process.env;
  const store = options.store ?? new FileCredentialStore({ home: resolveConfigHome(env) });
  const { endpoint } = await resolveEndpoint(options.endpoint, env, store);
  const http =
    options.http ??
    createHttpClient({
      env,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      tls: createTlsTrust({
        env,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        storedCaFor: (origin) => storedCaForOrigin(store, origin),
      }),
    });
  return createForwardingClient({
    endpoint,
    store,
    env,
    http,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

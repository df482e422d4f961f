import type { CredentialSource } from '../store/resolve-credential';
import type { CredentialStore } from '../store/credential-types';
import { saveSetCookies as saveToJar } from '../http/save-set-cookies';
import type { BodyBytesCounter, Logger } from '../context';
import type { CachedCredential } from './cached-credential';
import { loopbackOrigins } from '../http/loopback-host';
import type { LocalRequestPolicy } from './request-guard';
import type { UpstreamPool } from './upstream-pool';

/** What the HTTP and the WebSocket halves of the proxy share for one run. */
export interface ProxyRuntime {
  endpoint: string;
  endpointUrl: URL;
  store: CredentialStore;
  logger: Logger;
  credential: CachedCredential;
  credentialSource: CredentialSource;
  policy(): LocalRequestPolicy;
  /** The upstream client, for HTTP requests and WebSocket upgrades alike. */
  upstream: UpstreamPool;
  /** Told the size of every body chunk, down and up: the injected young-generation sweep, or nothing. */
  countBodyBytes: BodyBytesCounter;
}

export interface UpstreamTarget {
  /** The upstream URL (for cookie matching, classification and messages). */
  url: URL;
  /** The path sent upstream, exactly as the client wrote it after the endpoint's base path. */
  path: string;
  /** The proxy's origin as the client addressed it (Host has been checked). */
  localOrigin: string;
  localOrigins: readonly string[];
}

/** Maps a checked local request onto the endpoint. */
export function upstreamTarget(runtime: ProxyRuntime, requestTarget: string, host: string): UpstreamTarget {
  const basePath = runtime.endpointUrl.pathname.replace(/\/+$/, '');
  const path = `${basePath}${requestTarget}`;
  return {
    url: new URL(`${runtime.endpointUrl.origin}${path}`),
    path,
    localOrigin: `http://${host.trim().toLowerCase()}`,
    localOrigins: localOriginsOf(runtime.policy().port),
  };
}

let lastOrigins: { port: number; origins: readonly string[] } | undefined;

/** loopbackOrigins, built once per port rather than once per request. */
function localOriginsOf(port: number): readonly string[] {
  if (lastOrigins?.port !== port) lastOrigins = { port, origins: loopbackOrigins(port) };
  return lastOrigins.origins;
}

/** Saves Set-Cookie from upstream into the jar (never passed on; never fatal: see http/save-set-cookies.ts). */
export async function saveSetCookies(
  runtime: ProxyRuntime,
  url: URL,
  setCookies: string[] | undefined,
): Promise<void> {
  if (runtime.credentialSource !== 'cookie-jar') return;
  const saved = await saveToJar(runtime.store, {
    endpoint: runtime.endpoint,
    url,
    setCookies,
    logger: runtime.logger,
  });
  if (saved) runtime.credential.invalidate();
}

import { randomBytes } from 'node:crypto';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import {
  createLocalForwardingProxy,
  type LocalForwardingProxy,
} from '../../local-proxy/local-forwarding-proxy';
import type { CliContext } from '../cli-context';

/** What `proxy` and `exec` take: which endpoint, which port, whether a per-run secret is required. */
export interface LocalProxyOptions {
  endpoint?: string;
  port?: number;
  secret?: boolean;
  /** `proxy --workers N`: processes sharing the port (node:cluster); default 1. */
  workers?: number;
}

export interface StartedLocalProxy {
  proxy: LocalForwardingProxy;
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** The value every request must carry in X-Cookie-Bridge-Secret (with --secret). */
  secret: string | undefined;
}

/**
 * The local forwarding proxy as `proxy` and `exec` start it: the endpoint resolved like every command does
 * (-e, $COOKIE_BRIDGE_ENDPOINT, the last login), its credential looked up first (NotLoggedInError before
 * anything listens), then listening on 127.0.0.1 (PortInUseError when --port is taken).
 */
export async function startLocalProxy(
  ctx: CliContext,
  options: LocalProxyOptions,
  worker?: { secret: string | undefined },
): Promise<StartedLocalProxy> {
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const secret =
    worker !== undefined
      ? worker.secret
      : options.secret === true
        ? randomBytes(32).toString('base64url')
        : undefined;
  const proxy = await createLocalForwardingProxy({
    endpoint,
    store: ctx.store,
    env: ctx.env,
    logger: ctx.logger,
    now: ctx.now,
    timers: ctx.timers,
    http: ctx.http,
    ...(secret === undefined ? {} : { secret }),
  });
  const { url } = await proxy.listen(options.port ?? 0, worker === undefined ? {} : { shared: true });
  return { proxy, url, secret };
}

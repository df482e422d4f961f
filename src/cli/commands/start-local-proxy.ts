import { randomBytes } from 'node:crypto';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import {
  createLocalForwardingProxy,
  type LocalForwardingProxy,
} from '../../local-proxy/local-forwarding-proxy';
import type { CliContext } from '../cli-context';
import { youngGenerationSweep } from '../young-generation-sweep';

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
  // Peak RSS of a 1 GiB download through the proxy, 101–113 MB before (bench/README.md, section 2), came
  // from two things at once; either step alone left it at 92–94 MB, both at ~64 MB:
  // - the socket reads' buffers (outside V8's heap), freed only when V8 collects: this process's own
  //   young-generation sweep, down and up (each `--workers` process acquires its own; the library never
  //   collects by itself);
  // - V8's optimising compiler working on undici's HTTP parser (WebAssembly) once it is hot, mid-transfer:
  //   ~30 MB for a moment. The proxy keeps the baseline code (Liftoff), as `request` does: no more
  //   instructions per small request (callgrind: 560 k with it, 572 k without). Set before undici's first
  //   request.
  ctx.setV8Flags('--liftoff-only');
  const sweep = youngGenerationSweep(ctx.setV8Flags);
  const proxy = await createLocalForwardingProxy({
    endpoint,
    store: ctx.store,
    env: ctx.env,
    logger: ctx.logger,
    now: ctx.now,
    timers: ctx.timers,
    http: ctx.http,
    ...(secret === undefined ? {} : { secret }),
    ...(sweep === undefined ? {} : { youngGenerationSweep: sweep }),
  });
  const { url } = await proxy.listen(options.port ?? 0, worker === undefined ? {} : { shared: true });
  return { proxy, url, secret };
}

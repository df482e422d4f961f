import type { CliContext } from '../cli-context';
import { waitForStopSignal } from '../stop-signals';
import { watchSessionExpiry } from '../session-expiry-notice';
import { startLocalProxy, type LocalProxyOptions } from './start-local-proxy';
import { isProxyWorker, runProxyWorker, startProxyWorkers, type ProxyWorkers } from './proxy-workers';

export type ProxyCommandOptions = LocalProxyOptions;

/** Resolves when the process is asked to stop (SIGINT or SIGTERM); injectable for tests. */
export type StopSignal = () => Promise<NodeJS.Signals>;

export { waitForStopSignal };

/**
 * `cookie-bridge proxy`: serves the endpoint on 127.0.0.1 with the stored credential until SIGINT/SIGTERM.
 * stdout (for scripts): the proxy's URL on the first line and, with --secret, the header to send on the
 * second (`X-Cookie-Bridge-Secret: <secret>`), printed once. stderr: the banner for people.
 */
export async function proxyCommand(
  ctx: CliContext,
  options: ProxyCommandOptions,
  stopSignal: StopSignal = waitForStopSignal,
): Promise<number> {
  if (isProxyWorker(ctx.env)) return runProxyWorker(ctx, options);
  const stopped = stopSignal();
  const workers = options.workers ?? 1;
  const running =
    workers > 1 ? await startProxyWorkers(ctx, options, workers) : await startSingleProxy(ctx, options);
  const { url, secret } = running;
  const who = running.identity === undefined ? '' : ` (as ${running.identity})`;
  const many = workers > 1 ? ` (${workers} workers)` : '';
  ctx.stderr.write(`cookie-bridge proxy: ${url} → ${running.endpoint}${who}${many}\n`);
  ctx.stdout.write(`${url}\n`);
  if (secret !== undefined) {
    ctx.stdout.write(`X-Cookie-Bridge-Secret: ${secret}\n`);
    ctx.stderr.write('every request must carry the X-Cookie-Bridge-Secret header printed on stdout\n');
  }
  ctx.stderr.write('press Ctrl-C to stop\n');
  const expiryWatch = watchSessionExpiry(ctx, running.endpoint);
  const signal = await stopped;
  expiryWatch.stop();
  ctx.logger.debug(`${signal}: stopping`);
  await running.stop();
  ctx.stderr.write('cookie-bridge proxy: stopped\n');
  return 0;
}

async function startSingleProxy(ctx: CliContext, options: ProxyCommandOptions): Promise<ProxyWorkers> {
  const { proxy, url, secret } = await startLocalProxy(ctx, options);
  return { url, secret, endpoint: proxy.endpoint, identity: proxy.identity, stop: () => proxy.close() };
}

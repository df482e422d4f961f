import type { CliContext } from '../cli-context';
import { waitForStopSignal } from '../stop-signals';
import { watchSessionExpiry } from '../session-expiry-notice';
import { startLocalProxy, type LocalProxyOptions } from './start-local-proxy';

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
  const stopped = stopSignal();
  const { proxy, url, secret } = await startLocalProxy(ctx, options);
  const who = proxy.identity === undefined ? '' : ` (as ${proxy.identity})`;
  ctx.stderr.write(`cookie-bridge proxy: ${url} → ${proxy.endpoint}${who}\n`);
  ctx.stdout.write(`${url}\n`);
  if (secret !== undefined) {
    ctx.stdout.write(`X-Cookie-Bridge-Secret: ${secret}\n`);
    ctx.stderr.write('every request must carry the X-Cookie-Bridge-Secret header printed on stdout\n');
  }
  ctx.stderr.write('press Ctrl-C to stop\n');
  const expiryWatch = watchSessionExpiry(ctx, proxy.endpoint);
  const signal = await stopped;
  expiryWatch.stop();
  ctx.logger.debug(`${signal}: stopping`);
  await proxy.close();
  ctx.stderr.write('cookie-bridge proxy: stopped\n');
  return 0;
}

import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { CookieBridgeError, PortInUseError } from '../../errors';
import { PROXY_HOST } from '../../local-proxy/local-forwarding-proxy';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import { resolveCredential } from '../../store/resolve-credential';
import type { CliContext } from '../cli-context';
import { onStopSignals } from '../stop-signals';
import { startLocalProxy, type LocalProxyOptions } from './start-local-proxy';

/**
 * `cookie-bridge proxy --workers N`: N processes (node:cluster) serve one port; the primary only starts,
 * watches and stops them (and restarts one that dies). Each worker is the ordinary proxy: the jar stays
 * consistent because Set-Cookie saves go through the store's lock and every worker's cached Cookie header
 * is checked against the jar file on each request (local-proxy/cached-credential.ts). The per-run secret
 * reaches the workers in their environment, never in argv.
 */

const WORKER_ENV = 'COOKIE_BRIDGE_PROXY_WORKER';

type WorkerReport = { type: 'listening'; url: string } | { type: 'failed'; message: string; port?: number };

interface WorkerSetup {
  secret?: string;
}

export interface ProxyWorkers {
  url: string;
  endpoint: string;
  identity: string | undefined;
  secret: string | undefined;
  /** Asks every worker to stop (each lets its in-flight requests finish) and waits for them. */
  stop(): Promise<void>;
}

/** Whether this process is a worker started by startProxyWorkers. */
export function isProxyWorker(env: NodeJS.ProcessEnv): boolean {
  return cluster.isWorker && env[WORKER_ENV] !== undefined;
}

/** The primary: checks the credential (NotLoggedInError before anything listens), then forks the workers. */
export async function startProxyWorkers(
  ctx: CliContext,
  options: LocalProxyOptions,
  count: number,
): Promise<ProxyWorkers> {
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const credential = await resolveCredential(endpoint, ctx.store, ctx.env);
  const secret = options.secret === true ? randomBytes(32).toString('base64url') : undefined;
  const setup: WorkerSetup = secret === undefined ? {} : { secret };
  const live = new Set<Worker>();
  let stopping = false;

  const fork = (): Worker => {
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(setup) });
    live.add(worker);
    // A worker that is already leaving (its IPC channel closing) may miss a message: its exit is what counts.
    worker.on('error', (error) => ctx.logger.debug(`proxy worker: ${error.message}`));
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      if (stopping || !started) return;
      ctx.stderr.write(
        `cookie-bridge proxy: worker ${worker.process.pid ?? '?'} exited (${signal ?? code}); starting another\n`,
      );
      void listening(fork()).catch((error: unknown) => {
        ctx.logger.warn(`a replacement worker failed: ${(error as Error).message}`);
      });
    });
    return worker;
  };
  const stop = async (): Promise<void> => {
    stopping = true;
    const exits = [...live].map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    for (const worker of live) {
      if (worker.isConnected()) worker.send({ type: 'stop' }, () => undefined);
      else worker.process.kill('SIGTERM');
    }
    await Promise.all(exits);
  };

  let started = false;
  const workers = Array.from({ length: count }, fork);
  let url: string;
  try {
    const urls = await Promise.all(workers.map(listening));
    url = urls[0] as string;
  } catch (error) {
    await stop();
    throw error;
  }
  started = true;
  return { url, endpoint, identity: credential.profile?.identity, secret, stop };
}

/** Resolves the worker's URL once it listens; rejects with its error when it could not start. */
function listening(worker: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void => {
      reject(new Error(`a proxy worker exited (${signal ?? code}) before listening`));
    };
    worker.once('exit', onExit);
    worker.on('message', (report: WorkerReport) => {
      worker.off('exit', onExit);
      if (report.type === 'listening') resolve(report.url);
      else if (report.port !== undefined) {
        reject(new PortInUseError(report.port, PROXY_HOST));
      } else reject(new Error(report.message));
    });
  });
}

/**
 * One worker: the ordinary proxy on the shared port; stops on the primary's request, on SIGINT/SIGTERM
 * (Ctrl-C reaches the whole process group) or when the primary is gone. Prints nothing: the primary does.
 */
export async function runProxyWorker(ctx: CliContext, options: LocalProxyOptions): Promise<number> {
  const setup = JSON.parse(ctx.env[WORKER_ENV] ?? '{}') as WorkerSetup;
  delete ctx.env[WORKER_ENV];
  let off = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    // Kept until the end: a second signal while closing must not kill the worker mid-response.
    off = onStopSignals(() => resolve());
    process.on('message', (message: { type?: string }) => {
      if (message.type === 'stop') resolve();
    });
    process.once('disconnect', () => resolve());
  });
  const send = (report: WorkerReport): void => {
    if (process.connected) process.send?.(report);
  };
  try {
    const { proxy, url } = await startLocalProxy(ctx, options, { secret: setup.secret });
    send({ type: 'listening', url });
    await stopped;
    await proxy.close();
    return 0;
  } catch (error) {
    const known = error instanceof CookieBridgeError ? error : undefined;
    send({
      type: 'failed',
      message: (error as Error).message,
      ...(error instanceof PortInUseError ? { port: error.port } : {}),
    });
    return known?.exitCode ?? 1;
  } finally {
    off();
    if (process.connected) process.disconnect();
  }
}

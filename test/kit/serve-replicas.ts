import { REDIS_RECOVERY_WAIT_MS } from '../../fixtures/real-components/budgets';
import { pollUntil } from './poll-until';
import { startServeSidecar, type ServeSidecar } from './serve-sidecar';

/**
 * `count` replicas of the built `cookie-bridge serve --debug` in front of one upstream, each with `storeArgs`
 * (e.g. `--relay-store redis://127.0.0.1:PORT --relay-store-prefix …`), started one after the other (a 2-core
 * machine gains nothing from starting them at once). Each replica's log is its own stderr.
 */
export async function startServeReplicas(
  count: number,
  upstreamUrl: string,
  storeArgs: string[],
  extraEnv: Record<string, string> = {},
): Promise<ServeSidecar[]> {
  const replicas: ServeSidecar[] = [];
  try {
    for (let i = 0; i < count; i += 1)
      replicas.push(await startServeSidecar(upstreamUrl, storeArgs, extraEnv));
  } catch (error) {
    await stopServeReplicas(replicas);
    throw error;
  }
  return replicas;
}

export async function stopServeReplicas(replicas: ServeSidecar[]): Promise<void> {
  for (const replica of replicas.splice(0)) await replica.stop();
}

/** Waits (bounded by REDIS_RECOVERY_WAIT_MS) until a replica's log matches `pattern`; returns the match. */
export function waitForReplicaLog(replica: ServeSidecar, pattern: RegExp): Promise<RegExpMatchArray> {
  return pollUntil(`serve log matching ${String(pattern)}`, REDIS_RECOVERY_WAIT_MS, () =>
    Promise.resolve(pattern.exec(replica.logs()) ?? undefined),
  );
}

import { readdirSync, readFileSync } from 'node:fs';

/**
 * The processes on this machine whose command line holds `secret`, read from /proc/<pid>/cmdline the way
 * `ps` shows them to every user. Linux only (the kit's e2e tests run there); processes that end while
 * being read are skipped.
 */
export function processesWithSecretInArgv(secret: string): Array<{ pid: number; argv: string[] }> {
  const found: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let raw: Buffer;
    try {
      raw = readFileSync(`/proc/${entry}/cmdline`);
    } catch {
      continue;
    }
    if (raw.includes(secret)) {
      found.push({ pid: Number(entry), argv: raw.toString('utf8').split('\0').filter(Boolean) });
    }
  }
  return found;
}

/** The command line of one running process, as other users see it in `ps`; undefined once it has ended. */
export function argvOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`).toString('utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

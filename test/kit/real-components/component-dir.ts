import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The account a server drops to when the tests run as root (Apache and nginx refuse to serve as root). */
export interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
  group: string;
}

/** Returns www-data (or nobody) when this process is root, else undefined: servers then keep our own user. */
export function unprivilegedUserIfRoot(): UnprivilegedUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  const groups = readFileSync('/etc/group', 'utf8').split('\n');
  for (const name of ['www-data', 'nobody']) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(':');
    if (fields === undefined) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    const group = groups.find((line) => line.split(':')[2] === String(gid))?.split(':')[0];
    if (Number.isInteger(uid) && Number.isInteger(gid) && group !== undefined)
      return { name, uid, gid, group };
  }
  throw new Error('running as root, but neither www-data nor nobody exists to run server workers as');
}

/**
 * A fresh folder under the OS temp folder for one component instance. It is made world-traversable (0755) so
 * that workers that dropped to an unprivileged user can reach what the root parent prepared inside it.
 */
export function makeComponentDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cookie-bridge-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** A sub-folder that the unprivileged worker user may write to (owned by it when we are root). */
export function makeWritableDir(path: string, user: UnprivilegedUser | undefined): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (user !== undefined) chownSync(path, user.uid, user.gid);
  return path;
}

/** Removes a component folder unless COOKIE_BRIDGE_KEEP_E2E_TMP is set (to read the logs after a run). */
export function removeComponentDir(dir: string): void {
  if (process.env.COOKIE_BRIDGE_KEEP_E2E_TMP !== undefined) return;
  rmSync(dir, { recursive: true, force: true });
}

/** Reads a log file if it exists. */
export function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

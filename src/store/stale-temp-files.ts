import { join } from 'node:path';
import * as fs from './fs-calls';

/**
 * Temp files (`cookies.json.<n>`, `profile.json.<n>`) that write-file-atomic left behind when a writer was
 * killed mid-write. Every write of an endpoint happens under its lock, so while we hold it, any such file is
 * stale. Best effort: a file that cannot be removed is left for the next writer.
 */
export async function removeStaleTempFiles(folder: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return;
  }
  const stale = names.filter((name) => /^(?:profile|cookies)\.json\.\d+$/.test(name));
  await Promise.all(stale.map((name) => fs.rm(join(folder, name), { force: true }).catch(() => undefined)));
}

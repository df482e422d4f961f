/** config.json of the config home: it only remembers the last endpoint used (read-modify-write under its lock). */
import { CredentialFileError } from '../errors';
import {
  ensurePrivateDir,
  readJsonFile,
  withFileLock,
  writeFileSecurely,
  type FileLockOptions,
} from './secure-file';
import { checkHome, configFileOf, isRecord, toJsonText } from './store-layout';

export interface StoredConfig {
  lastEndpoint?: string;
  [key: string]: unknown;
}

export async function readConfig(home: string): Promise<StoredConfig> {
  const file = configFileOf(home);
  const hint = `fix ${file} or delete it (it only remembers the last endpoint used)`;
  await checkHome(home);
  const raw = await readJsonFile(file, { hint });
  if (raw === undefined) return {};
  if (!isRecord(raw) || (raw.lastEndpoint !== undefined && typeof raw.lastEndpoint !== 'string')) {
    throw new CredentialFileError('E_CORRUPT_FILE', file, 'is not a valid cookie-bridge config', hint);
  }
  return raw as StoredConfig;
}

/** Read-modify-write of config.json under its lock; `change` returns undefined for "no change". */
export async function updateConfig(
  home: string,
  change: (config: StoredConfig) => StoredConfig | undefined,
  lockOptions: FileLockOptions,
): Promise<void> {
  // Checked once without the lock, so a no-op neither creates the home nor waits for the lock.
  if (change(await readConfig(home)) === undefined) return;
  await ensurePrivateDir(home);
  const file = configFileOf(home);
  await withFileLock(
    file,
    async () => {
      const next = change(await readConfig(home));
      if (next !== undefined) await writeFileSecurely(file, toJsonText(next));
    },
    lockOptions,
  );
}

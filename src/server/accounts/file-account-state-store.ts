import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { CredentialFileError, errnoCode } from '../../errors';
import { readJsonFile, withFileLock, writeFileSecurely, type FileLockOptions } from '../../store/secure-file';
import type {
  AccountDocumentCodec,
  AccountDocumentName,
  AccountStateStore,
  DocumentChange,
} from './account-state-store';
import { AccountStateError } from './account-types';

/**
 * The service accounts' state in a folder of its own (serve --state-dir): `keys.json` (the signing keys, private
 * halves included), `service-accounts.json` and `people.json`. The folder is 0700 and the files 0600, written
 * atomically (src/store/secure-file.ts: temp file, fsync, rename); each update holds the file's lock
 * (`<file>.lock`, proper-lockfile), so several serve processes on one host share the folder safely.
 *
 * Stricter than the credential store: the folder holds a private signing key, so a folder or file that the group
 * or others may read (or write), that is a symbolic link or that another user owns is refused
 * (AccountStateError naming it) and never "fixed": the key may already have been read, which only the operator
 * can judge. A file that is not valid JSON or not a valid document is an AccountStateError naming it, and is
 * never replaced.
 */

const FILE_NAMES: Readonly<Record<AccountDocumentName, string>> = {
  keys: 'keys.json',
  'service-accounts': 'service-accounts.json',
  people: 'people.json',
};

const NOT_PRIVATE = 0o077;

export interface FileAccountStateStoreOptions {
  /** The state dir; created 0700 when missing. */
  dir: string;
  /** How long an update waits for another process's lock (secure-file's defaults: about 8-15 s). */
  lock?: FileLockOptions;
}

export function createFileAccountStateStore(options: FileAccountStateStoreOptions): AccountStateStore {
  const dir = path.resolve(options.dir);
  const fileOf = (name: AccountDocumentName): string => path.join(dir, FILE_NAMES[name]);

  async function readDocument<T>(codec: AccountDocumentCodec<T>): Promise<T> {
    const file = fileOf(codec.name);
    await checkPrivate(dir, 'folder');
    await checkPrivate(file, 'file');
    let raw: unknown;
    try {
      raw = await readJsonFile(file, { hint: corruptHint(file) });
    } catch (error) {
      throw stateError(error);
    }
    if (raw === undefined) return codec.empty();
    try {
      return codec.parse(raw);
    } catch (error) {
      throw new AccountStateError(`${file} ${(error as Error).message}: ${corruptHint(file)}`, file);
    }
  }

  return {
    locationOf: fileOf,
    read: readDocument,
    async update<T, R>(
      codec: AccountDocumentCodec<T>,
      change: (current: T) => DocumentChange<T, R>,
    ): Promise<R> {
      const file = fileOf(codec.name);
      await ensureStateDir(dir);
      try {
        return await withFileLock(
          file,
          async () => {
            const outcome = change(await readDocument(codec));
            if (outcome.next !== undefined) {
              await writeFileSecurely(file, `${JSON.stringify(codec.serialize(outcome.next), null, 2)}\n`);
            }
            return outcome.result;
          },
          options.lock,
        );
      } catch (error) {
        throw stateError(error);
      }
    },
  };
}

async function ensureStateDir(dir: string): Promise<void> {
  await checkPrivate(dir, 'folder');
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AccountStateError(
      `${dir}: the state dir cannot be created (${errnoCode(error) ?? 'error'})`,
      dir,
      {
        cause: error,
      },
    );
  }
  await checkPrivate(dir, 'folder');
}

/** Refuses a state folder or file that is not the current user's own and private (see the module comment). */
async function checkPrivate(target: string, kind: 'file' | 'folder'): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.lstat(target);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw new AccountStateError(`${target}: cannot be read (${errnoCode(error) ?? 'error'})`, target, {
      cause: error,
    });
  }
  const fix = kind === 'folder' ? `chmod 700 ${target}` : `chmod 600 ${target}`;
  if (stat.isSymbolicLink()) {
    throw new AccountStateError(
      `${target} is a symbolic link: give serve a real ${kind} as its state`,
      target,
    );
  }
  if (kind === 'folder' ? !stat.isDirectory() : !stat.isFile()) {
    throw new AccountStateError(`${target} is not a ${kind}`, target);
  }
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new AccountStateError(
      `${target} is owned by uid ${stat.uid}, not by serve's user (uid ${uid})`,
      target,
    );
  }
  if ((stat.mode & NOT_PRIVATE) !== 0) {
    throw new AccountStateError(
      `${target} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); serve keeps its signing key ` +
        `there and will not use it: ${fix} if nobody else could have read it, else also rotate the key ` +
        `(delete keys.json: every service account token then has to be created again)`,
      target,
    );
  }
}

/** The file's own problems as AccountStateError naming the file; anything else unchanged. */
function stateError(error: unknown): unknown {
  if (error instanceof CredentialFileError) {
    return new AccountStateError(`${error.message}: ${error.hint ?? corruptHint(error.file)}`, error.file, {
      cause: error,
    });
  }
  // Anything else (an AccountRequestError from the change, a bug) is not about the file: passed on as it is.
  return error;
}

function corruptHint(file: string): string {
  return `fix ${file} from a backup, or move it away to start it afresh (for keys.json: every token is then invalid)`;
}

import { promises as fs } from 'node:fs';
import { parseEndpoint } from '../protocol/endpoint';
import { errnoCode, UsageError } from '../errors';
import type { Logger } from '../context';

/**
 * Secrets for `api login` that stay off the command line, where every user of the machine can read them
 * (`ps`, /proc/<pid>/cmdline) and the shell history keeps them: --token-stdin, --token-file, --password-stdin.
 * A secret given on the command line still works, with a warning that names the safer flag.
 */

/** Larger than any token or password; stops `--token-file /dev/zero` or a wrong file from eating memory. */
export const MAX_SECRET_BYTES = 64 * 1024;

export interface LoginSecretOptions {
  endpoint: string;
  token?: string;
  tokenStdin?: boolean;
  tokenFile?: string;
  passwordStdin?: boolean;
}

export interface LoginSecretDeps {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  logger: Logger;
  platform?: NodeJS.Platform;
}

/** What login() gets: the endpoint (with user:password@ when --password-stdin) and the token, if any. */
export interface LoginSecrets {
  endpoint: string;
  token?: string;
}

export async function readLoginSecrets(
  options: LoginSecretOptions,
  deps: LoginSecretDeps,
): Promise<LoginSecrets> {
  if (options.token !== undefined) {
    deps.logger.warn(
      '--token puts the token on the command line, where other users of this machine can read it (ps) ' +
        'and your shell history keeps it; use --token-stdin or --token-file instead',
    );
    return { endpoint: options.endpoint, token: options.token };
  }
  if (options.tokenStdin === true) {
    return {
      endpoint: options.endpoint,
      token: await readSecretFromStdin(deps.stdin, 'token', '--token-stdin'),
    };
  }
  if (options.tokenFile !== undefined) {
    return { endpoint: options.endpoint, token: await readTokenFile(options.tokenFile, deps) };
  }
  if (options.passwordStdin === true) {
    const url = endpointForPassword(options.endpoint);
    const password = await readSecretFromStdin(deps.stdin, 'password', '--password-stdin');
    // Percent-encoded first, so parseEndpoint's decodeURIComponent gives back exactly what was read.
    url.password = encodeURIComponent(password);
    return { endpoint: url.toString() };
  }
  if (hasPassword(options.endpoint)) {
    deps.logger.warn(
      'the password in -e is on the command line, where other users of this machine can read it (ps) ' +
        'and your shell history keeps it; use -e https://user@host with --password-stdin instead',
    );
  }
  return { endpoint: options.endpoint };
}

/** Drops one trailing line break (`echo` adds it); refuses an empty secret or one with a line break inside. */
export function cleanSecret(raw: string, what: string, source: string): string {
  const secret = raw.replace(/\r?\n$/, '');
  if (secret === '') {
    throw new UsageError(`the ${what} read from ${source} is empty`, {
      hint: `give the ${what} on ${source === '--token-file' ? 'the first line of the file' : 'stdin'}, e.g. printf %s "$SECRET" | cookie-bridge api login …`,
    });
  }
  if (/[\r\n\0]/.test(secret)) {
    throw new UsageError(`the ${what} read from ${source} has a line break or NUL byte inside`, {
      hint: `give just the ${what}, on one line, with at most one trailing newline`,
    });
  }
  return secret;
}

async function readSecretFromStdin(
  stdin: LoginSecretDeps['stdin'],
  what: string,
  flag: string,
): Promise<string> {
  if (stdin.isTTY === true) {
    throw new UsageError(`${flag} reads the ${what} from a pipe or file, and stdin is a terminal`, {
      hint: `pipe it in: printf %s "$SECRET" | cookie-bridge api login … ${flag}, or use < file`,
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_SECRET_BYTES) {
      throw new UsageError(`the ${what} on stdin is larger than ${MAX_SECRET_BYTES / 1024} KiB`, {
        hint: `pipe only the ${what} into ${flag}`,
      });
    }
    chunks.push(buffer);
  }
  return cleanSecret(Buffer.concat(chunks).toString('utf8'), what, 'stdin');
}

async function readTokenFile(file: string, deps: LoginSecretDeps): Promise<string> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    if (stat.size > MAX_SECRET_BYTES) {
      throw new UsageError(`--token-file ${file} is larger than ${MAX_SECRET_BYTES / 1024} KiB`, {
        hint: 'point --token-file at a file that holds only the token',
      });
    }
    if ((deps.platform ?? process.platform) !== 'win32' && (stat.mode & 0o077) !== 0) {
      deps.logger.warn(
        `--token-file ${file} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 ${file}`,
      );
    }
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--token-file ${file} cannot be read (${errnoCode(error) ?? 'unknown error'})`, {
      hint: 'check the path and its permissions',
    });
  }
  return cleanSecret(text, 'token', '--token-file');
}

function endpointForPassword(endpoint: string): URL {
  const hint = 'name the user in the endpoint and pipe the password: -e https://user@host --password-stdin';
  const parsed = parseEndpoint(endpoint);
  if (parsed.basic === undefined || parsed.basic.username === '') {
    throw new UsageError('--password-stdin needs a user name in the endpoint', { hint });
  }
  if (parsed.basic.password !== '') {
    throw new UsageError('--password-stdin and a password in -e: give the password only once', { hint });
  }
  const url = new URL(parsed.url);
  url.username = encodeURIComponent(parsed.basic.username);
  return url;
}

function hasPassword(endpoint: string): boolean {
  try {
    const password = parseEndpoint(endpoint).basic?.password;
    return password !== undefined && password !== '';
  } catch {
    return false; // login() reports the bad endpoint
  }
}

import { createReadStream } from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { createForwardingClient } from '../../sdk/forwarding-client';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import { describeHeaders } from '../../protocol/redact';
import { CookieBridgeError, EndpointUnreachableError, HttpStatusError, UsageError } from '../../errors';
import { bodyBytesCounter, type TextOutput } from '../../context';
import type { CliContext } from '../cli-context';
import type { SetV8Flags } from '../v8-flags';
import { youngGenerationSweep } from '../young-generation-sweep';
import { warnIfSessionEndsSoon } from '../session-expiry-notice';

export interface RequestCommandOptions {
  endpoint?: string;
  request?: string;
  header: string[];
  data?: string;
  dataFile?: string;
  include?: boolean;
  silent?: boolean;
  timeout: number;
}

export async function requestCommand(
  ctx: CliContext,
  pathOrUrl: string,
  options: RequestCommandOptions,
): Promise<number> {
  if (options.data !== undefined && options.dataFile !== undefined) {
    throw new UsageError('use either -d/--data or --data-file, not both');
  }
  const headers = parseHeaders(options.header);
  // curl's default; -H 'Accept: …' sets another (the SDK's own default prefers JSON).
  headers.accept ??= '*/*';
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  await warnIfSessionEndsSoon(ctx, endpoint);
  const client = await createForwardingClient({
    endpoint,
    store: ctx.store,
    env: ctx.env,
    logger: ctx.logger,
    http: ctx.http,
    timeoutMs: options.timeout * 1000,
  });
  // The body streams on undici, whose HTTP parser is a WebAssembly module. V8 compiles it with its baseline
  // compiler (Liftoff) and then again, in the background, with its optimising one; a process that is done
  // stays alive until that second compile ends: ~100 ms after a small answer on a 2-core machine. A command
  // that exits after one request keeps the baseline code (bodies are still parsed in large spans, so 1 GiB is
  // not slowed, and peak RSS is ~25 MB lower). Must be set before undici's first request. Only `request`
  // loads undici among the short commands: the others' exchanges go on node:http (http-request.ts).
  ctx.setV8Flags('--liftoff-only');
  let body: string | Readable | undefined = options.data;
  if (options.dataFile !== undefined)
    body = options.dataFile === '-' ? ctx.stdin : createReadStream(options.dataFile);

  // The body goes straight from the socket into stdout (undici.stream), once the head has passed the
  // session check; a full stdout (a slow reader) pauses the connection.
  const response = await client.fetch(pathOrUrl, {
    headers,
    ...(options.request === undefined ? {} : { method: options.request }),
    ...(body === undefined ? {} : { body }),
    writeBodyTo: (head) => {
      if (options.include) {
        ctx.stderr.write(`HTTP ${head.status} ${head.statusText}\n${describeHeaders(head.headers)}\n\n`);
      } else if (!options.silent) {
        ctx.stderr.write(`HTTP ${head.status} ${head.statusText}\n`);
      }
      return sweepingStdout(ctx.stdout, ctx.setV8Flags);
    },
  });
  try {
    await response.finished;
  } catch (error) {
    const { code, syscall } = error as { code?: unknown; syscall?: unknown };
    if (code === 'EPIPE') return 0;
    if (syscall === 'write') {
      throw new CookieBridgeError('E_OUTPUT_FAILED', `cannot write the response to stdout (${String(code)})`);
    }
    throw new EndpointUnreachableError(endpoint, 'the connection broke while the response was streaming', {
      cause: error,
    });
  }
  if (response.status >= 400) throw new HttpStatusError(response.status, response.statusText);
  return 0;
}

/**
 * stdout for the body, with the CLI's young-generation sweep (young-generation-sweep.ts): peak RSS for
 * 1 GiB ~100 → ~70 MB. The per-chunk work is one addition; each write still completes only when stdout has
 * taken the chunk, so a slow reader pauses the connection as before. The CLI's own process only: the SDK
 * leaves a host's GC alone.
 */
function sweepingStdout(stdout: TextOutput, setV8Flags: SetV8Flags): Writable {
  const countBytes = bodyBytesCounter(youngGenerationSweep(setV8Flags));
  return new Writable({
    highWaterMark: 0,
    write(chunk: Buffer, _encoding, callback) {
      countBytes(chunk.length);
      stdout.write(chunk, callback);
    },
    final(callback) {
      callback();
    },
  });
}

/** "Name: value" → { name: value }; repeated names are kept as a list. */
export function parseHeaders(lines: string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [index, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      // The line itself is not echoed: it may hold a secret.
      throw new UsageError(`header #${index + 1} is not of the form 'Name: value'`, {
        hint: "write headers as -H 'Name: value'",
      });
    }
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const existing = headers[key];
    headers[key] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return headers;
}

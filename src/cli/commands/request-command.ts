import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createForwardingClient } from '../../sdk/forwarding-client';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import { describeHeaders } from '../../protocol/redact';
import { CookieBridgeError, EndpointUnreachableError, HttpStatusError, UsageError } from '../../errors';
import type { CliContext } from '../cli-context';
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
  let body: string | Readable | undefined = options.data;
  if (options.dataFile !== undefined)
    body = options.dataFile === '-' ? ctx.stdin : createReadStream(options.dataFile);

  const response = await client.fetch(pathOrUrl, {
    headers,
    ...(options.request === undefined ? {} : { method: options.request }),
    ...(body === undefined ? {} : { body }),
  });
  if (options.include) {
    ctx.stderr.write(
      `HTTP ${response.status} ${response.statusText}\n${describeHeaders(response.headers)}\n\n`,
    );
  } else if (!options.silent) {
    ctx.stderr.write(`HTTP ${response.status} ${response.statusText}\n`);
  }
  try {
    await pipeline(response.body, ctx.stdout);
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

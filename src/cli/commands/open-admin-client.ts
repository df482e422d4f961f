import { createAdminClient, type AdminClient } from '../../sdk/admin-client';
import { serverText } from '../../protocol/admin-api';
import { createForwardingClient } from '../../sdk/forwarding-client';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import type { CliContext } from '../cli-context';

/** Time allowed for each admin API answer's head: the calls are small, the server local to the proxy. */
const ADMIN_CALL_TIMEOUT_MS = 30_000;

/**
 * The admin client of `api service-account` and `api users`: the endpoint (-e, $COOKIE_BRIDGE_ENDPOINT, the
 * last login) and its stored credential ($COOKIE_BRIDGE_TOKEN first), through the CLI's one HTTP client.
 */
export async function openAdminClient(
  ctx: Pick<CliContext, 'env' | 'store' | 'logger' | 'http'>,
  endpointOption: string | undefined,
): Promise<AdminClient> {
  const { endpoint } = await resolveEndpoint(endpointOption, ctx.env, ctx.store);
  return createAdminClient(
    await createForwardingClient({
      endpoint,
      store: ctx.store,
      env: ctx.env,
      logger: ctx.logger,
      http: ctx.http,
      timeoutMs: ADMIN_CALL_TIMEOUT_MS,
    }),
  );
}

/** Columns padded to their widest cell, two spaces apart (the last one not padded). */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}

/** An ISO time as `2027-01-01 12:00` (UTC, to the minute), for tables; a value that is not one, as it is. */
export function shortTime(iso: string | undefined): string {
  if (iso === undefined) return '-';
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso;
}

/** A name the server sent, fit for a table cell (no control characters, not endless). */
export function serverTextCell(value: string): string {
  return serverText(value, 120);
}

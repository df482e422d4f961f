/**
 * The 4xx status an error carries (body-parser and http-errors set `status` and `statusCode`), for the
 * express error handlers of the token app, `serve` and the relay routes; undefined for anything else
 * (answered as a 500). Pure.
 */
export function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500
    ? value
    : undefined;
}

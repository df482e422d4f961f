import type { IncomingHttpHeaders } from 'node:http';

/**
 * Response headers as node:http presents them, whichever client read them (undici's raw Buffers, or
 * node:http's rawHeaders lines): lower-case names, values as latin1 strings (so they are written back byte
 * for byte), Set-Cookie as a list, other repeated headers joined by ', '.
 */
function addIncomingHeader(headers: IncomingHttpHeaders, name: string, value: string): void {
  if (name === 'set-cookie') {
    const list = headers['set-cookie'];
    if (list === undefined) headers['set-cookie'] = [value];
    else list.push(value);
    return;
  }
  const existing = headers[name];
  headers[name] = existing === undefined ? value : `${String(existing)}, ${value}`;
}

/** undici's raw response headers (name, value, name, value…; Buffers). */
export function toIncomingHeaders(raw: Buffer[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    addIncomingHeader(
      headers,
      (raw[i] as Buffer).toString('latin1').toLowerCase(),
      (raw[i + 1] as Buffer).toString('latin1'),
    );
  }
  return headers;
}

/** node:http's rawHeaders lines (name, value, name, value…; latin1 strings). */
export function incomingHeadersFromLines(lines: readonly string[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    addIncomingHeader(headers, (lines[i] as string).toLowerCase(), lines[i + 1] as string);
  }
  return headers;
}

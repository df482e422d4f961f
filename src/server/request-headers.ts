import type * as http from 'node:http';

/**
 * Changing a received request's headers before serve's routes and the proxy read them: node keeps them twice
 * (req.headers and the cached req.headersDistinct, which readIdentity reads first), so both change together.
 */

/** Removes a header (any case of the name). */
export function removeRequestHeader(req: http.IncomingMessage, name: string): void {
  const key = name.toLowerCase();
  delete req.headers[key];
  const distinct = req.headersDistinct as Record<string, string[] | undefined>;
  delete distinct[key];
}

/** Sets a header to one value, replacing whatever the client sent under that name. */
export function replaceRequestHeader(req: http.IncomingMessage, name: string, value: string): void {
  const key = name.toLowerCase();
  req.headers[key] = value;
  const distinct = req.headersDistinct as Record<string, string[] | undefined>;
  distinct[key] = [value];
}

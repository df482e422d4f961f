import { UsageError } from '../errors';

export interface BasicCredentials {
  username: string;
  password: string;
}

export interface ParsedEndpoint {
  /** Normalised base URL: no userinfo, query or fragment, no trailing slash. The key credentials are stored under. */
  readonly url: string;
  /** scheme://host[:port] */
  readonly origin: string;
  /** Present when the endpoint was given as http://user:pass@host. */
  readonly basic?: BasicCredentials;
}

/**
 * The last endpoint parsed that had no credentials in it: a command normalises its endpoint about six times
 * (argument, store keys, paths, the client), and each parse is a URL object and its strings, ~0.7 KB of the
 * young generation a time (bench/README.md, section 3). One held with a password is never kept.
 */
let lastParsed: { input: string; parsed: ParsedEndpoint } | undefined;

/**
 * Whether `text` starts with a URL scheme and `//` (`https://`, `git+ssh://`): what the endpoint, a path or
 * a proxy variable is tested for before a default scheme is put in front. Letters are matched as both
 * cases rather than with the `i` flag: the first case-insensitive regular expression in a process costs
 * ~0.2 ms of case-folding set-up, and every command tests its endpoint.
 */
export function hasUrlScheme(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
}

/** Parses what the user typed after -e. Accepts a bare host ("api.example.com:8443") as https. */
export function parseEndpoint(input: string): ParsedEndpoint {
  if (lastParsed?.input === input) return lastParsed.parsed;
  const trimmed = input.trim();
  if (trimmed === '')
    throw new UsageError('the endpoint is empty', { hint: 'pass -e https://api.example.com' });
  const withScheme = hasUrlScheme(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`not a valid endpoint URL: ${describeWithoutUserinfo(trimmed)}`, {
      hint: 'pass -e https://api.example.com',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`unsupported scheme ${url.protocol} in endpoint`, {
      hint: 'use an http:// or https:// URL',
    });
  }
  let basic: BasicCredentials | undefined;
  if (url.username !== '' || url.password !== '') {
    try {
      basic = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    } catch {
      // A lone % (or one not followed by two hex digits) in the user name or password.
      throw new UsageError(
        `the user name or password in the endpoint is not valid percent-encoding: ${describeWithoutUserinfo(trimmed)}`,
        { hint: 'write % in a user name or password as %25 (and @ as %40, : as %3A)' },
      );
    }
  }
  // The origin of an http(s) URL is its scheme and host (the port only when not the default one, as the
  // parser keeps it): built from the parts rather than by clearing the userinfo, query and fragment through
  // URL's setters, each of which parses the whole URL again (every command normalises its endpoint first).
  const origin = `${url.protocol}//${url.host}`;
  const normalised = `${origin}${url.pathname.replace(/\/+$/, '')}`;
  if (basic !== undefined) return { url: normalised, origin, basic };
  const parsed: ParsedEndpoint = Object.freeze({ url: normalised, origin });
  lastParsed = { input, parsed };
  return parsed;
}

/**
 * Resolves a path or URL against the endpoint. A relative path ("/api/x" or "api/x") is appended to the
 * endpoint's base path; an absolute URL must share the endpoint's origin, so credentials never leave it.
 */
export function resolveEndpointUrl(endpoint: string, pathOrUrl: string): URL {
  const base = new URL(endpoint);
  if (hasUrlScheme(pathOrUrl)) {
    const target = new URL(pathOrUrl);
    if (target.origin !== base.origin) {
      throw new UsageError(`${target.origin} is not the endpoint's origin (${base.origin})`, {
        hint: 'credentials are only sent to the endpoint they belong to; pass a path such as /api/items',
      });
    }
    return target;
  }
  const basePath = base.pathname.replace(/\/+$/, '');
  const relative = pathOrUrl.startsWith('/') ? pathOrUrl : `/${pathOrUrl}`;
  return new URL(`${base.origin}${basePath}${relative}`);
}

function describeWithoutUserinfo(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//<credentials>@');
}

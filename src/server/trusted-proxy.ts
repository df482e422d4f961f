import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { secretsEqual } from '../protocol/secret-compare';
import { UsageError } from '../errors';

/**
 * Whether a request came through the auth proxy, so that its identity header can be believed: it arrived from
 * an address in the trusted list, or it carries the secret header the proxy adds. serve removes the identity
 * header from every other request, and the secret header from every request, before anything reads or
 * forwards them.
 */

/** The default trusted list: loopback, for a proxy on the same host. */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];
/** The header the proxy adds with the shared secret, unless configured otherwise. */
export const DEFAULT_PROXY_SECRET_HEADER = 'X-Cookie-Bridge-Proxy-Secret';
/** Shortest secret accepted: guessing must be hopeless. */
export const MIN_PROXY_SECRET_LENGTH = 16;

export interface ProxySecret {
  header: string;
  value: string;
}

export interface TrustedProxyOptions {
  /** CIDRs (or single addresses) whose requests are trusted; default LOOPBACK_CIDRS. `[]` trusts no address. */
  trustedProxies?: readonly string[];
  /** A header and value the proxy adds; a request carrying it is trusted wherever it comes from. */
  proxySecret?: ProxySecret;
}

export interface TrustedProxyCheck {
  /** True when the request came through the proxy. */
  isTrusted(remoteAddress: string | undefined, headers: IncomingHttpHeaders): boolean;
  /** Lower-case name of the secret header, if any (always removed before forwarding). */
  secretHeader: string | undefined;
}

const CIDR_HINT = 'give CIDRs such as 10.0.0.0/8 or ::1/128';

/** Parses `10.0.0.0/8`, `::1/128` or a bare address; throws a UsageError naming the bad entry. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const slash = text.indexOf('/');
  const address = (slash === -1 ? text : text.slice(0, slash)).trim();
  const version = isIP(address);
  if (version === 0)
    throw new UsageError(`not an IP address or CIDR: ${JSON.stringify(text)}`, { hint: CIDR_HINT });
  const max = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1).trim();
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    throw new UsageError(`bad prefix length in ${JSON.stringify(text)}`, { hint: CIDR_HINT });
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function createTrustedProxyCheck(options: TrustedProxyOptions = {}): TrustedProxyCheck {
  const list = new BlockList();
  for (const cidr of options.trustedProxies ?? LOOPBACK_CIDRS) {
    const { address, prefix, family } = parseCidr(cidr);
    list.addSubnet(address, prefix, family);
  }
  const secret = options.proxySecret;
  if (secret !== undefined && secret.value.length < MIN_PROXY_SECRET_LENGTH) {
    throw new UsageError(`the proxy secret must be at least ${MIN_PROXY_SECRET_LENGTH} characters`, {
      hint: 'make one with: openssl rand -hex 32',
    });
  }
  const secretHeader = secret?.header.toLowerCase();

  const fromTrustedAddress = (remoteAddress: string | undefined): boolean => {
    if (remoteAddress === undefined) return false;
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress)?.[1];
    const address = mapped ?? remoteAddress;
    const version = isIP(address);
    if (version === 0) return false;
    return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };

  const carriesSecret = (headers: IncomingHttpHeaders): boolean => {
    if (secret === undefined || secretHeader === undefined) return false;
    const given = headers[secretHeader];
    // Repeated headers arrive as one joined string (or an array): never equal to the secret.
    return typeof given === 'string' && secretsEqual(given, secret.value);
  };

  return {
    isTrusted: (remoteAddress, headers) => carriesSecret(headers) || fromTrustedAddress(remoteAddress),
    secretHeader,
  };
}

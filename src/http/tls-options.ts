import type { X509Certificate } from 'node:crypto';
import { promises as fsPromises } from 'node:fs';
import type { buildConnector } from 'undici';
import { UsageError, describeSystemError } from '../errors';
import type { Logger } from '../context';

/**
 * Which certificate authorities an outbound TLS connection trusts, for the one HTTP client (http-request.ts):
 * Node's own roots (tls.rootCertificates and the NODE_EXTRA_CA_CERTS file) plus the private CAs the user
 * gave: `--cacert FILE`, $COOKIE_BRIDGE_CA_BUNDLE, the SDK's `ca`, and the CA stored for an endpoint at login
 * (looked up by origin when a connection opens). Passing `ca` to TLS *replaces* Node's defaults, so the
 * connection's list is always the whole union, never the private CA alone.
 */

export type Connector = buildConnector.connector;
type ConnectorOptions = buildConnector.Options;

export const CA_BUNDLE_ENV_VAR = 'COOKIE_BRIDGE_CA_BUNDLE';

export interface TlsTrustOptions {
  /** Read for NODE_EXTRA_CA_CERTS and COOKIE_BRIDGE_CA_BUNDLE; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** `--cacert FILE`: trusted on every connection (and stored for the endpoint by a login). */
  cacertFile?: string;
  /** CA certificates (PEM text) trusted on every connection: the SDK's `ca`. */
  ca?: string;
  /** The CA (PEM text) stored for the endpoint at `origin`, if any (the credential store's). */
  storedCaFor?: (origin: string) => Promise<string | undefined>;
  /** --debug: which private CAs a connection trusts (subjects and fingerprints: no secret). */
  logger?: Logger;
}

export interface TlsTrust {
  /** The PEM text of --cacert, read once (undefined without the flag); a bad file is a UsageError. */
  cacert(): Promise<string | undefined>;
  /** The private CAs (PEM texts) a connection to `origin` trusts beyond Node's own: empty when none. */
  extraCaFor(origin: string): Promise<string[]>;
  /** The whole CA list for a connection that trusts `extra` beyond Node's own (tls.rootCertificates + NODE_EXTRA_CA_CERTS). */
  caListWith(extra: string[]): Promise<string[]>;
}

export function createTlsTrust(options: TlsTrustOptions = {}): TlsTrust {
  const env = options.env ?? process.env;
  const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
    let loaded: Promise<T> | undefined;
    return () => (loaded ??= load());
  };
  const cacert = once(async () =>
    options.cacertFile === undefined ? undefined : readCaFile(options.cacertFile, '--cacert'),
  );
  const bundleFile = env[CA_BUNDLE_ENV_VAR];
  const bundle = once(async () =>
    bundleFile === undefined || bundleFile === ''
      ? undefined
      : readCaFile(bundleFile, `$${CA_BUNDLE_ENV_VAR}`),
  );
  const nodeExtra = once(() => readNodeExtraCa(env));
  const stored = new Map<string, Promise<string | undefined>>();
  const logged = new Set<string>();
  const storedFor = (origin: string): Promise<string | undefined> => {
    let found = stored.get(origin);
    if (found === undefined) {
      found = options.storedCaFor?.(origin) ?? Promise.resolve(undefined);
      stored.set(origin, found);
    }
    return found;
  };
  return {
    cacert,
    async extraCaFor(origin) {
      const sources: Array<[string, string | undefined]> = [
        ['the SDK option ca', options.ca],
        ['--cacert', await cacert()],
        [`$${CA_BUNDLE_ENV_VAR}`, await bundle()],
        ['stored at login', await storedFor(origin)],
      ];
      const given = sources.filter(
        (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
      );
      if (given.length > 0 && options.logger !== undefined && !logged.has(origin)) {
        logged.add(origin);
        const names = given.map(
          ([source, pem]) =>
            `${describeCaPem(pem)
              .map((ca) => `${ca.subject} (SHA-256 ${ca.fingerprint256.slice(0, 23)}…)`)
              .join(', ')} from ${source}`,
        );
        options.logger.debug(`tls: ${origin} trusts, beside the system's CAs: ${names.join('; ')}`);
      }
      return [...new Set(given.map(([, pem]) => pem))];
    },
    async caListWith(extra) {
      return [...loadTls().rootCertificates, ...(await nodeExtra()), ...extra];
    },
  };
}

/**
 * Reads a CA file given by the user: PEM with at least one certificate, each one parseable. Anything else is a
 * UsageError naming the file and where it was given (`--cacert`, `$COOKIE_BRIDGE_CA_BUNDLE`).
 */
export async function readCaFile(file: string, source: string): Promise<string> {
  let text: string;
  try {
    text = await fsPromises.readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${source}: cannot read ${file} (${describeSystemError(error)})`, {
      hint: 'give the path of the CA certificate file (PEM, the -----BEGIN CERTIFICATE----- kind)',
    });
  }
  const certificates = pemCertificates(text);
  const invalid =
    certificates.length === 0 || certificates.some((pem) => parseCertificate(pem) === undefined);
  if (invalid) {
    throw new UsageError(`${source}: ${file} holds no PEM certificate`, {
      hint: 'give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----); convert DER with: openssl x509 -inform der -in FILE',
    });
  }
  return `${certificates.join('\n')}\n`;
}

/** The certificates of a PEM text, each with its BEGIN and END lines (keys and other blocks are left out). */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/** What `api info` shows of a stored CA: public facts only (a CA certificate holds no secret). */
export interface CaDescription {
  subject: string;
  /** SHA-256 of the certificate, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
  validTo: string;
}

export function describeCaPem(pem: string): CaDescription[] {
  return pemCertificates(pem).flatMap((block) => {
    const certificate = parseCertificate(block);
    if (certificate === undefined) return [];
    return [
      {
        subject: certificate.subject.replace(/\n/g, ', '),
        fingerprint256: certificate.fingerprint256,
        validTo: new Date(certificate.validTo).toISOString(),
      },
    ];
  });
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    // node:crypto loads here, when a certificate is read, not at start-up of every command (~4 ms).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { X509Certificate: Certificate } = require('node:crypto') as typeof import('node:crypto');
    return new Certificate(pem);
  } catch {
    return undefined;
  }
}

/** The NODE_EXTRA_CA_CERTS file's certificates: Node adds them to its defaults, which `ca` replaces. */
async function readNodeExtraCa(env: NodeJS.ProcessEnv): Promise<string[]> {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (file === undefined || file === '') return [];
  try {
    return pemCertificates(await fsPromises.readFile(file, 'utf8'));
  } catch {
    // Node itself only warns about an unreadable file and goes on with its roots.
    return [];
  }
}

// node:tls (and node:fs/promises, through fsPromises) load when a CA list is built, not at every start-up.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadTls = (): typeof import('node:tls') => require('node:tls') as typeof import('node:tls');
// undici is loaded on the first connection, like in http-request.ts.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const undici = (): typeof import('undici') => require('undici') as typeof import('undici');

/**
 * The `connect` option of the client's undici Agent and origin Pools: plain connections and https origins
 * without a private CA use undici's own connector (Node's trust); an https origin with one gets a connector
 * whose `ca` is Node's roots + NODE_EXTRA_CA_CERTS + the private CAs, built once per CA set.
 */
export function tlsConnector(trust: TlsTrust): Connector {
  const plain = undici().buildConnector({});
  const withCa = new Map<string, Promise<Connector>>();
  const connectorFor = (extra: string[]): Promise<Connector> => {
    const key = extra.join('\n');
    let connector = withCa.get(key);
    if (connector === undefined) {
      connector = trust.caListWith(extra).then((ca) => undici().buildConnector({ ca }));
      withCa.set(key, connector);
    }
    return connector;
  };
  return (options: ConnectorOptions, callback) => {
    if (options.protocol !== 'https:') return plain(options, callback);
    const origin = new URL(`https://${options.host ?? options.hostname}`).origin;
    trust
      .extraCaFor(origin)
      .then((extra) => (extra.length === 0 ? plain : connectorFor(extra)))
      .then(
        (connector) => connector(options, callback),
        (error: Error) => callback(error, null),
      );
  };
}

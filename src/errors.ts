/**
 * The one error model. Every failure cookie-bridge reports is a CookieBridgeError: a stable `code`
 * (an ErrorCode, listed in ERROR_CODES below), an `exitCode` for the shell and a one-line `hint` that
 * says what to do next. ERROR_CODES is the only place a code gets its exit code and default hint;
 * EXIT_CODES is the only place an exit code gets its meaning (the README's, docs/security-model.md's and
 * --help's tables are checked against it by test/unit/error-model.test.ts).
 * The CLI's single top-level handler (src/cli/report-error.ts) turns these into output and `process.exitCode`.
 */

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  NotLoggedIn: 3,
  SessionExpired: 4,
  EndpointUnreachable: 5,
  LoginFailed: 6,
  CredentialFile: 7,
  PortInUse: 8,
  Tls: 9,
  Forbidden: 10,
  HttpStatus: 22,
  CommandNotExecutable: 126,
  CommandNotFound: 127,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * What each exit code means. `summary` is how the README's and docs/security-model.md's rows begin;
 * `help` is the short form `cookie-bridge --help` prints.
 */
export const EXIT_CODES: Readonly<Record<ExitCodeValue, { summary: string; help: string }>> = {
  0: { summary: 'success', help: 'success' },
  1: { summary: 'unexpected error', help: 'unexpected error' },
  2: { summary: 'usage error', help: 'usage error' },
  3: { summary: 'not logged in', help: 'not logged in' },
  4: { summary: 'session expired', help: 'session expired' },
  5: { summary: 'endpoint unreachable', help: 'endpoint unreachable' },
  6: { summary: 'login failed', help: 'login failed (timeout, bad bundle, not verified)' },
  7: {
    summary: 'a credential file is corrupt or cannot be written',
    help: 'credential file corrupt, unwritable or not private',
  },
  8: { summary: 'the requested port is in use', help: 'port in use' },
  9: {
    summary: "TLS failure: the endpoint's certificate is not trusted (unknown CA, wrong name, expired)",
    help: 'TLS: certificate not trusted',
  },
  10: {
    summary: 'forbidden: the server knows who you are, and your role may not do this',
    help: 'forbidden (admins only)',
  },
  22: { summary: 'the server answered HTTP ≥ 400', help: 'HTTP status >= 400' },
  126: { summary: '`exec`: the command cannot be run', help: 'command cannot be run (exec)' },
  127: { summary: '`exec`: the command was not found', help: 'command not found (exec)' },
};

interface ErrorCodeEntry {
  readonly exitCode: ExitCodeValue;
  /** Shown when the thrower gives no hint of its own; undefined only where the message says it all. */
  readonly hint: string | undefined;
}

const LOGIN_AGAIN = 'run the login again; nothing was saved';

/** Every code cookie-bridge throws, with its exit code and default hint. */
export const ERROR_CODES = {
  E_INTERNAL: {
    exitCode: ExitCode.Failure,
    hint: 'run again with --debug for details, and report it if it persists',
  },
  E_OUTPUT_FAILED: {
    exitCode: ExitCode.Failure,
    hint: 'check the disk space or the file stdout is redirected to',
  },
  E_USAGE: { exitCode: ExitCode.Usage, hint: 'run the command with --help to see what it accepts' },
  E_NOT_LOGGED_IN: { exitCode: ExitCode.NotLoggedIn, hint: 'run cookie-bridge api login -e <endpoint>' },
  E_SESSION_EXPIRED: { exitCode: ExitCode.SessionExpired, hint: 'run cookie-bridge api login -e <endpoint>' },
  E_ENDPOINT_UNREACHABLE: {
    exitCode: ExitCode.EndpointUnreachable,
    hint: 'check the URL, your network or VPN, and that the server is up',
  },
  E_LOGIN_TIMEOUT: {
    exitCode: ExitCode.LoginFailed,
    hint: 'run the login again (use --timeout SECONDS for more time, or paste the bundle shown on the /token page)',
  },
  E_INVALID_BUNDLE: {
    exitCode: ExitCode.LoginFailed,
    hint: 'copy the whole bundle from the /token page again; nothing was saved',
  },
  E_LOGIN_NOT_VERIFIED: {
    exitCode: ExitCode.LoginFailed,
    hint: 'nothing was saved; sign in again in the browser, or check that /token is served behind the same proxy',
  },
  E_LOGIN_NEEDS_CREDENTIALS: {
    exitCode: ExitCode.LoginFailed,
    hint: 'the API wants credentials of its own: log in with --token-stdin (or --token-file F), or -e https://user@host --password-stdin',
  },
  E_LOGIN_NO_HEALTH: {
    exitCode: ExitCode.LoginFailed,
    hint: 'if a cookie auth proxy sits in front, sign in through the browser anyway with --cookies',
  },
  E_LOGIN_REJECTED: { exitCode: ExitCode.LoginFailed, hint: 'check the credentials; nothing was saved' },
  E_LOGIN_CANCELLED: { exitCode: ExitCode.LoginFailed, hint: 'nothing was saved' },
  E_LISTEN_FAILED: {
    exitCode: ExitCode.LoginFailed,
    hint: 'pick another port with --port N, or paste the bundle shown on the /token page',
  },
  E_LISTENER_CLOSED: { exitCode: ExitCode.LoginFailed, hint: LOGIN_AGAIN },
  E_RELAY_FAILED: { exitCode: ExitCode.LoginFailed, hint: 'run the login again, or log in without --relay' },
  E_RELAY_BUSY: {
    exitCode: ExitCode.LoginFailed,
    hint: "wait until pending sign-ins expire (the server's --relay-ttl, 5 minutes by default) and run the login again",
  },
  E_RELAY_GONE: { exitCode: ExitCode.LoginFailed, hint: LOGIN_AGAIN },
  E_RELAY_STORE_UNAVAILABLE: {
    exitCode: ExitCode.LoginFailed,
    hint: "the server's relay store (e.g. Redis) is down or restarting: run the login again in a minute, or log in without --relay",
  },
  E_RELAY_STATE_MISMATCH: { exitCode: ExitCode.LoginFailed, hint: LOGIN_AGAIN },
  E_RELAY_UNAVAILABLE: {
    exitCode: ExitCode.LoginFailed,
    hint: 'run cookie-bridge serve in front of the app (docs/serve.md), or log in without --relay',
  },
  E_CORRUPT_FILE: {
    exitCode: ExitCode.CredentialFile,
    hint: 'fix or delete the file named above (cookie-bridge api logout forgets one endpoint)',
  },
  E_WRITE_FAILED: {
    exitCode: ExitCode.CredentialFile,
    hint: 'check the free space and the permissions of the config folder',
  },
  E_LOCK_FAILED: {
    exitCode: ExitCode.CredentialFile,
    hint: 'another cookie-bridge may hold the lock: wait for it, or remove a stale .lock file',
  },
  E_UNSAFE_PERMISSIONS: {
    exitCode: ExitCode.CredentialFile,
    hint: 'make the config folder and its files yours and private (chmod 700 folder, 600 files)',
  },
  E_PORT_IN_USE: {
    exitCode: ExitCode.PortInUse,
    hint: 'pick another one with --port N, or leave --port out to use a free port',
  },
  E_HTTP_STATUS: { exitCode: ExitCode.HttpStatus, hint: undefined },
  E_FORBIDDEN: {
    exitCode: ExitCode.Forbidden,
    hint: 'ask an admin of the server (serve --admin, or one made admin with api users set-role) to do it',
  },
  E_TOKEN_REJECTED: {
    exitCode: ExitCode.SessionExpired,
    hint: 'ask an admin for a new token (api service-account create), then log in with it: api login --token-stdin',
  },
  E_NO_SERVICE_ACCOUNTS: {
    exitCode: ExitCode.HttpStatus,
    hint: "ask the server's operator to run cookie-bridge serve --service-accounts --sa-issuer <URL>",
  },
  E_NOT_FOUND: {
    exitCode: ExitCode.HttpStatus,
    hint: 'cookie-bridge api service-account list shows the names the server knows',
  },
  E_EXISTS: {
    exitCode: ExitCode.HttpStatus,
    hint: 'pick another --name (cookie-bridge api service-account list shows the taken ones)',
  },
  E_ADMIN_REFUSED: {
    exitCode: ExitCode.HttpStatus,
    hint: 'run it again with --debug to see the exchange (secrets are redacted)',
  },
  E_TLS: {
    exitCode: ExitCode.Tls,
    hint: 'pass the CA certificate with --cacert FILE (stored for the endpoint at login) or set COOKIE_BRIDGE_CA_BUNDLE=FILE',
  },
  E_NO_COOKIES: {
    exitCode: ExitCode.Usage,
    hint: 'this login is not a cookie session: cookie-bridge api cookies --format header prints its header',
  },
  E_COMMAND_NOT_EXECUTABLE: {
    exitCode: ExitCode.CommandNotExecutable,
    hint: 'check that it is a program you may run (chmod +x), or run it through its interpreter',
  },
  E_COMMAND_NOT_FOUND: {
    exitCode: ExitCode.CommandNotFound,
    hint: "check the name and PATH; the command runs without a shell: for pipes or $VARIABLES use sh -c '…'",
  },
  E_PROXY_UNREACHABLE: {
    exitCode: ExitCode.EndpointUnreachable,
    hint: 'start the proxy or fix HTTPS_PROXY/http_proxy, or add the host to NO_PROXY if it is reachable directly',
  },
  E_PROXY_REFUSED: {
    exitCode: ExitCode.EndpointUnreachable,
    hint: 'ask the proxy admins to allow the host, or add it to NO_PROXY if it is reachable directly',
  },
  E_PROXY_INVALID: {
    exitCode: ExitCode.Usage,
    hint: 'set HTTPS_PROXY/http_proxy to http://[user:password@]host:port (or https://…)',
  },
} as const satisfies Record<`E_${string}`, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes whose exit code is `E`: a LoginError can only carry a login failure's code, and so on. */
export type ErrorCodeWithExit<E extends ExitCodeValue> = {
  [K in ErrorCode]: (typeof ERROR_CODES)[K]['exitCode'] extends E ? K : never;
}[ErrorCode];
export type LoginErrorCode = ErrorCodeWithExit<typeof ExitCode.LoginFailed>;
export type CredentialFileErrorCode = ErrorCodeWithExit<typeof ExitCode.CredentialFile>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export interface CookieBridgeErrorOptions {
  /** Replaces the code's default hint (ERROR_CODES). */
  hint?: string;
  cause?: unknown;
}

// Fields are `declare`d and set by the constructors: a class field of its own is an initialiser function V8
// creates with the class, ~0.25 KB of the young generation per class at every start (bench/README.md, section 3).
export class CookieBridgeError extends Error {
  declare readonly code: ErrorCode;
  declare readonly exitCode: ExitCodeValue;
  declare readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: CookieBridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry: ErrorCodeEntry = ERROR_CODES[code];
    this.name = new.target.name;
    this.code = code;
    this.exitCode = entry.exitCode;
    this.hint = options.hint ?? entry.hint;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; exitCode: number } {
    return {
      code: this.code,
      message: this.message,
      exitCode: this.exitCode,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}

export class UsageError extends CookieBridgeError {
  constructor(message: string, options: CookieBridgeErrorOptions = {}) {
    super('E_USAGE', message, options);
  }
}

export class NotLoggedInError extends CookieBridgeError {
  constructor(endpoint: string | undefined, options: CookieBridgeErrorOptions = {}) {
    super(
      'E_NOT_LOGGED_IN',
      endpoint === undefined ? 'no endpoint given and none logged in to' : `not logged in to ${endpoint}`,
      {
        hint:
          endpoint === undefined
            ? 'run cookie-bridge api login -e <endpoint>, or set COOKIE_BRIDGE_ENDPOINT'
            : `run cookie-bridge api login -e ${endpoint}`,
        ...options,
      },
    );
  }
}

export class SessionExpiredError extends CookieBridgeError {
  declare readonly endpoint: string;
  declare readonly status: number | undefined;
  constructor(endpoint: string, reason: string, status?: number) {
    super('E_SESSION_EXPIRED', `session expired: run cookie-bridge api login -e ${endpoint}`, {
      hint: `the auth proxy no longer accepts the stored session (${reason})`,
    });
    this.endpoint = endpoint;
    this.status = status;
  }
}

export class EndpointUnreachableError extends CookieBridgeError {
  declare readonly endpoint: string;
  constructor(endpoint: string, detail: string, options: CookieBridgeErrorOptions = {}) {
    super('E_ENDPOINT_UNREACHABLE', `cannot reach ${endpoint}: ${detail}`, options);
    this.endpoint = endpoint;
  }
}

/**
 * The endpoint's TLS certificate was refused (unknown CA, wrong name, expired, self-signed): like
 * EndpointUnreachableError ("cannot reach <endpoint>: TLS: …"), with its own code, exit code 9 and a hint that
 * names the fix for that kind of failure (--cacert, the right host name, a renewed certificate).
 */
export class TlsError extends CookieBridgeError {
  declare readonly endpoint: string;
  /** Node's code for the refusal, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID. */
  declare readonly tlsCode: string;
  constructor(endpoint: string, detail: string, tlsCode: string, options: CookieBridgeErrorOptions = {}) {
    super('E_TLS', `cannot reach ${endpoint}: ${detail}`, options);
    this.endpoint = endpoint;
    this.tlsCode = tlsCode;
  }
}

export class LoginError extends CookieBridgeError {
  declare readonly code: LoginErrorCode;
  constructor(code: LoginErrorCode, message: string, options: CookieBridgeErrorOptions = {}) {
    super(code, message, options);
  }
}

export class LoginTimeoutError extends LoginError {
  constructor(seconds: number) {
    super('E_LOGIN_TIMEOUT', `no login arrived within ${seconds} s`);
  }
}

export class InvalidBundleError extends LoginError {
  constructor(reason: string, options: CookieBridgeErrorOptions = {}) {
    super('E_INVALID_BUNDLE', `invalid cookie bundle: ${reason}`, options);
  }
}

export class LoginNotVerifiedError extends LoginError {
  constructor(endpoint: string, detail: string) {
    super('E_LOGIN_NOT_VERIFIED', `the cookies did not get past the auth proxy of ${endpoint}: ${detail}`);
  }
}

export class CredentialFileError extends CookieBridgeError {
  declare readonly code: CredentialFileErrorCode;
  declare readonly file: string;
  constructor(code: CredentialFileErrorCode, file: string, detail: string, hint: string) {
    super(code, `${file}: ${detail}`, { hint });
    this.file = file;
  }
}

export class PortInUseError extends CookieBridgeError {
  declare readonly port: number;
  constructor(port: number, host: string, hint?: string) {
    super('E_PORT_IN_USE', `port ${port} on ${host} is already in use`, hint === undefined ? {} : { hint });
    this.port = port;
  }
}

export class HttpStatusError extends CookieBridgeError {
  declare readonly status: number;
  constructor(status: number, statusText: string) {
    super('E_HTTP_STATUS', `HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.status = status;
  }
}

/**
 * The admin API refused the caller (HTTP 403): signed in, but not an admin. The message names the identity
 * the server took the caller for (and its role), the hint who may (the server's `admins`).
 */
export class ForbiddenError extends CookieBridgeError {
  declare readonly identity: string | undefined;
  constructor(
    detail: string,
    caller: { identity: string; role: string } | undefined,
    admins: string | undefined,
  ) {
    super(
      'E_FORBIDDEN',
      caller === undefined
        ? `forbidden: ${detail}`
        : detail.includes(caller.identity)
          ? `forbidden: ${detail} (role ${caller.role})`
          : `forbidden: ${caller.identity} (role ${caller.role}) was refused: ${detail}`,
      admins === undefined ? {} : { hint: admins },
    );
    this.identity = caller?.identity;
  }
}

/**
 * serve refused the bearer token (HTTP 401 `token_invalid`): expired, revoked, signed by a key it no longer
 * publishes, for another audience, or malformed. Like an expired session (exit 4): a new token is needed.
 */
export class TokenRejectedError extends CookieBridgeError {
  declare readonly endpoint: string;
  /** The server's `reason` (a TokenRefusalReason: 'expired', 'revoked', 'unknown-key'…). */
  declare readonly reason: string;
  constructor(endpoint: string, reason: string, detail: string) {
    super('E_TOKEN_REJECTED', `${endpoint} refused the token (${reason}): ${detail}`, {
      hint: `ask an admin for a new token (api service-account create), then: cookie-bridge api login -e ${endpoint} --token-stdin, or set COOKIE_BRIDGE_TOKEN`,
    });
    this.endpoint = endpoint;
    this.reason = reason;
  }
}

export type AdminApiErrorCode = 'E_NO_SERVICE_ACCOUNTS' | 'E_NOT_FOUND' | 'E_EXISTS' | 'E_ADMIN_REFUSED';

/** The admin API answered a request with an error other than 403/401: no such name, name taken, no admin API. */
export class AdminApiError extends CookieBridgeError {
  declare readonly code: AdminApiErrorCode;
  /** The HTTP status of the answer. */
  declare readonly status: number;
  constructor(
    code: AdminApiErrorCode,
    status: number,
    message: string,
    options: CookieBridgeErrorOptions = {},
  ) {
    super(code, message, options);
    this.status = status;
  }
}

/** `exec` could not start its command: not found (127) or not runnable (126), as a shell would say. */
export class CommandStartError extends CookieBridgeError {
  declare readonly code: ErrorCodeWithExit<126 | 127>;
  declare readonly command: string;
  constructor(code: ErrorCodeWithExit<126 | 127>, command: string, detail: string) {
    super(
      code,
      `${JSON.stringify(command)}: ${code === 'E_COMMAND_NOT_FOUND' ? 'command not found' : 'cannot run the command'} (${detail})`,
    );
    this.command = command;
  }
}

export type ProxyErrorCode = 'E_PROXY_UNREACHABLE' | 'E_PROXY_REFUSED' | 'E_PROXY_INVALID';

/**
 * A forward proxy (HTTPS_PROXY, http_proxy…) that is down, refused the request, or is set to something that is
 * not a proxy URL. `proxy` names it without credentials (src/http/proxy-settings.ts).
 */
export class ProxyError extends CookieBridgeError {
  declare readonly code: ProxyErrorCode;
  declare readonly proxy: string;
  constructor(code: ProxyErrorCode, proxy: string, message: string, options: CookieBridgeErrorOptions = {}) {
    super(code, message, options);
    this.proxy = proxy;
  }
}

export function isCookieBridgeError(value: unknown): value is CookieBridgeError {
  return value instanceof CookieBridgeError;
}

/** The `code` of a Node.js system error ("ENOENT", "EADDRINUSE"…), when it has a string one. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** A system error's code ("EACCES"), else its message: short, and free of anything the error did not say. */
export function describeSystemError(error: unknown): string {
  return errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
}

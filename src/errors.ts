/**
 * Every failure cookie-bridge reports is a CookieBridgeError: a stable string `code` for scripts,
 * an `exitCode` for the shell and a one-line `hint` that says what to do next.
 * The CLI's single top-level handler turns these into output and `process.exitCode`.
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
  HttpStatus: 22,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface CookieBridgeErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class CookieBridgeError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    exitCode: ExitCodeValue,
    options: CookieBridgeErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
  }

  toJSON(): { code: string; message: string; hint?: string; exitCode: number } {
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
    super('E_USAGE', message, ExitCode.Usage, options);
  }
}

export class NotLoggedInError extends CookieBridgeError {
  constructor(endpoint: string | undefined, options: CookieBridgeErrorOptions = {}) {
    super(
      'E_NOT_LOGGED_IN',
      endpoint === undefined ? 'no endpoint given and none logged in to' : `not logged in to ${endpoint}`,
      ExitCode.NotLoggedIn,
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
  readonly endpoint: string;
  readonly status: number | undefined;
  constructor(endpoint: string, reason: string, status?: number) {
    super(
      'E_SESSION_EXPIRED',
      `session expired: run cookie-bridge api login -e ${endpoint}`,
      ExitCode.SessionExpired,
      {
        hint: `the auth proxy no longer accepts the stored session (${reason})`,
      },
    );
    this.endpoint = endpoint;
    this.status = status;
  }
}

export class EndpointUnreachableError extends CookieBridgeError {
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, options: CookieBridgeErrorOptions = {}) {
    super('E_ENDPOINT_UNREACHABLE', `cannot reach ${endpoint}: ${detail}`, ExitCode.EndpointUnreachable, {
      hint: 'check the URL, your network or VPN, and that the server is up',
      ...options,
    });
    this.endpoint = endpoint;
  }
}

export class LoginError extends CookieBridgeError {
  constructor(code: string, message: string, options: CookieBridgeErrorOptions = {}) {
    super(code, message, ExitCode.LoginFailed, options);
  }
}

export class LoginTimeoutError extends LoginError {
  constructor(seconds: number) {
    super('E_LOGIN_TIMEOUT', `no login arrived within ${seconds} s`, {
      hint: 'run the login again (use --timeout SECONDS for more time, or paste the bundle shown on the /token page)',
    });
  }
}

export class InvalidBundleError extends LoginError {
  constructor(reason: string, options: CookieBridgeErrorOptions = {}) {
    super('E_INVALID_BUNDLE', `invalid cookie bundle: ${reason}`, {
      hint: 'copy the whole bundle from the /token page again; nothing was saved',
      ...options,
    });
  }
}

export class LoginNotVerifiedError extends LoginError {
  constructor(endpoint: string, detail: string) {
    super('E_LOGIN_NOT_VERIFIED', `the cookies did not get past the auth proxy of ${endpoint}: ${detail}`, {
      hint: 'nothing was saved; sign in again in the browser, or check that /token is served behind the same proxy',
    });
  }
}

export class CredentialFileError extends CookieBridgeError {
  readonly file: string;
  constructor(
    code: 'E_CORRUPT_FILE' | 'E_WRITE_FAILED' | 'E_LOCK_FAILED' | 'E_UNSAFE_PERMISSIONS',
    file: string,
    detail: string,
    hint: string,
  ) {
    super(code, `${file}: ${detail}`, ExitCode.CredentialFile, { hint });
    this.file = file;
  }
}

export class PortInUseError extends CookieBridgeError {
  readonly port: number;
  constructor(
    port: number,
    host: string,
    hint = 'pick another one with --port N, or leave --port out to use a free port',
  ) {
    super('E_PORT_IN_USE', `port ${port} on ${host} is already in use`, ExitCode.PortInUse, { hint });
    this.port = port;
  }
}

export class HttpStatusError extends CookieBridgeError {
  readonly status: number;
  constructor(status: number, statusText: string) {
    super('E_HTTP_STATUS', `HTTP ${status}${statusText ? ` ${statusText}` : ''}`, ExitCode.HttpStatus);
    this.status = status;
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

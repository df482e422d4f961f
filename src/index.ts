/**
 * cookie-bridge as a library. The CLI is a thin layer over these.
 */

// Forwarding client (Node SDK)
export { createClient } from './client/create-client';
export type { CreateClientOptions } from './client/create-client';
export { createForwardingClient } from './client/forwarding-client';
export type {
  ClientRequestInit,
  ClientResponse,
  CookieBridgeClient,
  ForwardingClientDeps,
} from './client/forwarding-client';
export type { CredentialSource } from './client/resolve-credential';

// Login
export { login, DEFAULT_LOGIN_TIMEOUT_SECONDS } from './login/login-flow';
export type { LoginDeps, LoginOptions, LoginResult } from './login/login-flow';
export { startLoopbackListener } from './login/loopback-listener';

// Protocol and storage
export { decodeCookieBundle, encodeCookieBundle, BUNDLE_PREFIX } from './core/bundle-codec';
export type { BundleCookie, BundleFormat, CookieBundle } from './core/bundle-codec';
export { detectAuthProxy } from './core/detect-auth-proxy';
export type { DetectionResult } from './core/detect-auth-proxy';
export { classifyAuthProxyResponse } from './core/auth-proxy-signals';
export type { AuthProxySignal } from './core/auth-proxy-signals';
export { FileCredentialStore } from './core/file-credential-store';
export { resolveConfigHome } from './core/config-home';
export type { CredentialStore, EndpointProfile, StoredAuth, AuthProxyKind } from './core/credential-types';
export { parseEndpoint } from './core/endpoint';

// Server half
export { createApp } from './server/create-app';
export { createTokenRouter } from './server/token-route';
export { createHealthRouter } from './server/health-route';

// Errors
export {
  CookieBridgeError,
  CredentialFileError,
  EndpointUnreachableError,
  ExitCode,
  HttpStatusError,
  InvalidBundleError,
  LoginError,
  LoginNotVerifiedError,
  LoginTimeoutError,
  NotLoggedInError,
  PortInUseError,
  SessionExpiredError,
  UsageError,
} from './errors';
export type { Logger, Clock } from './context';

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

// Local forwarding proxy
export { createLocalForwardingProxy } from './proxy/local-forwarding-proxy';
export type { LocalForwardingProxy, LocalForwardingProxyOptions } from './proxy/local-forwarding-proxy';

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
export { createServeApp } from './server/create-serve-app';
export type { ServeApp, ServeAppOptions } from './server/create-serve-app';
export type { ProxySecret } from './server/trusted-proxy';
export { createMemoryRelayStore } from './server/relay-store';
export type {
  MemoryRelayStoreOptions,
  RelayClaim,
  RelayConfirmation,
  RelayConfirmOutcome,
  RelayEndReason,
  RelayRegisterOutcome,
  RelayRegistration,
  RelayRequestInfo,
  RelaySource,
  RelayStore,
} from './server/relay-store';
export { upstreamErrorResponse, upstreamErrorStatus } from './server/upstream-errors';
export { checkRelaySupport, createRelayChallenge, pollRelay, registerRelay } from './login/relay-client';
export type { RelayChallenge } from './login/relay-client';

// Errors
export {
  CookieBridgeError,
  CredentialFileError,
  EndpointUnreachableError,
  ERROR_CODES,
  EXIT_CODES,
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
  isErrorCode,
} from './errors';
export type { ErrorCode } from './errors';
export { systemTimers } from './context';
export type { Logger, Clock, Context, Timers } from './context';

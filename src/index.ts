/**
 * cookie-bridge as a library. The CLI is a thin layer over these.
 */

// Forwarding client (Node SDK)
export { createClient } from './sdk/create-client';
export type { CreateClientOptions } from './sdk/create-client';
export { createForwardingClient } from './sdk/forwarding-client';
export type {
  ClientRequestInit,
  ClientResponse,
  ClientResponseHead,
  CookieBridgeClient,
  ForwardingClientDeps,
} from './sdk/forwarding-client';
export type { CredentialSource } from './store/resolve-credential';

// The admin API of serve --service-accounts (service accounts and roles), over a forwarding client
export { createAdminClient } from './sdk/admin-client';
export type { AdminClient } from './sdk/admin-client';
export { ADMIN_API_PATHS } from './protocol/admin-api';
export type {
  AdminMeJson,
  CreateServiceAccountBody,
  CreatedServiceAccountJson,
  ServiceAccountJson,
  UserJson,
} from './protocol/admin-api';

// Local forwarding proxy
export { createLocalForwardingProxy } from './local-proxy/local-forwarding-proxy';
export type { LocalForwardingProxy, LocalForwardingProxyOptions } from './local-proxy/local-forwarding-proxy';

// Login
export { login, DEFAULT_LOGIN_TIMEOUT_SECONDS } from './login/login-flow';
export type { LoginDeps, LoginOptions, LoginResult } from './login/login-flow';
export { startLoopbackListener } from './login/loopback-listener';

// Protocol and storage
export { decodeCookieBundle, encodeCookieBundle, BUNDLE_PREFIX } from './protocol/bundle-codec';
export type { BundleCookie, BundleFormat, CookieBundle } from './protocol/bundle-codec';
export { detectAuthProxy } from './login/detect-auth-proxy';
export type { DetectionResult } from './login/detect-auth-proxy';
export { classifyAuthProxyResponse } from './protocol/auth-proxy-signals';
export type { AuthProxySignal } from './protocol/auth-proxy-signals';
export { FileCredentialStore } from './store/file-credential-store';
export { resolveConfigHome } from './store/config-home';
export type { CredentialStore, EndpointProfile, StoredAuth, AuthProxyKind } from './store/credential-types';
export { parseEndpoint } from './protocol/endpoint';

// Server half
export { createApp } from './server/create-app';
export { createTokenRouter } from './server/token-route';
export { createHealthRouter } from './server/health-route';
export { createServeApp } from './server/create-serve-app';
export type { ServeApp, ServeAppOptions } from './server/create-serve-app';
export type { ProxySecret } from './server/trusted-proxy';
export type { ResolveIdentity } from './server/identity';
export {
  createMemoryRelayStore,
  isRelayStoreUnavailable,
  RelayStoreUnavailableError,
} from './server/relay-store';
export { createRedisRelayStore, DEFAULT_RELAY_STORE_PREFIX } from './server/redis-relay-store';
export type { RedisRelayStore, RedisRelayStoreOptions } from './server/redis-relay-store';
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
// Service accounts and roles (issue 13): docs/service-accounts.md;
// serve's side: createServeApp({ accounts, roleHeader, admins })
export { DEFAULT_IDENTITY_HEADER, DEFAULT_ROLE_HEADER } from './server/identity';
export { createAccountService } from './server/accounts/account-service';
export type { AccountServiceDeps } from './server/accounts/account-service';
export { createFileAccountStateStore } from './server/accounts/file-account-state-store';
export type { FileAccountStateStoreOptions } from './server/accounts/file-account-state-store';
export {
  createRedisAccountStateStore,
  DEFAULT_ACCOUNT_STATE_PREFIX,
} from './server/accounts/redis-account-state-store';
export type {
  RedisAccountStateStore,
  RedisAccountStateStoreOptions,
} from './server/accounts/redis-account-state-store';
export type {
  AccountDocumentCodec,
  AccountDocumentName,
  AccountStateStore,
  DocumentChange,
} from './server/accounts/account-state-store';
export {
  AccountRequestError,
  AccountStateError,
  ROLES,
  SERVICE_ACCOUNT_NAME,
} from './server/accounts/account-types';
export type {
  AccountService,
  AccountServiceOptions,
  BearerVerdict,
  CreateServiceAccountRequest,
  Person,
  PublicJwk,
  Role,
  ServiceAccount,
  ServiceAccountStatus,
  TokenRefusalReason,
} from './server/accounts/account-types';
export { parseDurationMs } from './protocol/duration';
export { upstreamErrorResponse, upstreamErrorStatus } from './http/upstream-errors';
export { checkRelaySupport, createRelayChallenge, pollRelay, registerRelay } from './login/relay-client';
export type { RelayChallenge } from './login/relay-client';

// Errors
export {
  AdminApiError,
  CookieBridgeError,
  CredentialFileError,
  EndpointUnreachableError,
  ERROR_CODES,
  EXIT_CODES,
  ExitCode,
  ForbiddenError,
  HttpStatusError,
  InvalidBundleError,
  LoginError,
  LoginNotVerifiedError,
  LoginTimeoutError,
  NotLoggedInError,
  PortInUseError,
  ProxyError,
  SessionExpiredError,
  TokenRejectedError,
  UsageError,
  isErrorCode,
} from './errors';
export type { ErrorCode } from './errors';
export { systemTimers } from './context';
export type {
  Logger,
  Clock,
  Context,
  Timers,
  AppContext,
  BrowserOpener,
  Stdin,
  YoungGenerationSweep,
} from './context';
export { createHttpClient, systemHttpClient } from './http/http-request';
export type { HttpClient, HttpClientOptions } from './http/http-request';
export { TlsError } from './errors';
export { createTlsTrust } from './http/tls-options';
export type { TlsTrust, TlsTrustOptions } from './http/tls-options';
export { resolveProxy } from './http/proxy-settings';
export type { ProxyRoute } from './http/proxy-settings';

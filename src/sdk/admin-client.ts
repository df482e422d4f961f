/**
 * The admin API of `cookie-bridge serve --service-accounts` (/cookie-bridge/admin/, behind the auth proxy) as
 * calls, over a forwarding client: the stored credential (cookies, token, $COOKIE_BRIDGE_TOKEN), the CA and
 * forward-proxy settings, the session-expiry evidence (SessionExpiredError, exit 4) and refreshed cookies
 * saved back all come from it, as for `request` and the SDK. Error answers become typed errors:
 * 403 → ForbiddenError (naming the caller, from GET /me, and who may), 401 `token_invalid` →
 * TokenRejectedError, 404 of a name → E_NOT_FOUND, no admin API at all → E_NO_SERVICE_ACCOUNTS,
 * 409 → E_EXISTS, 400 → UsageError. A created token is in the returned object only: never logged.
 *
 * ```ts
 * const admin = createAdminClient(await createClient({ endpoint: 'https://api.example.com' }));
 * const { token } = await admin.createServiceAccount({ name: 'nightly-ci', expiresIn: 30 * 86400 });
 * ```
 */
import {
  ADMIN_API_PATHS,
  asAdminError,
  isAdminMeJson,
  isServiceAccountJson,
  isUserJson,
  serverText,
  type AdminErrorJson,
  type AdminMeJson,
  type CreateServiceAccountBody,
  type CreatedServiceAccountJson,
  type Role,
  type ServiceAccountJson,
  type UserJson,
} from '../protocol/admin-api';
import { AdminApiError, ForbiddenError, TokenRejectedError, UsageError } from '../errors';
import type { CredentialSource } from '../store/resolve-credential';
import type { CookieBridgeClient } from './forwarding-client';

export interface AdminClient {
  readonly endpoint: string;
  readonly credentialSource: CredentialSource;
  /** Who the server takes the caller for (any caller may ask). */
  me(): Promise<AdminMeJson>;
  listServiceAccounts(): Promise<ServiceAccountJson[]>;
  /** The account and its token: the only time the server shows it. */
  createServiceAccount(body: CreateServiceAccountBody): Promise<CreatedServiceAccountJson>;
  revokeServiceAccount(name: string): Promise<ServiceAccountJson>;
  /** Starts a new signing key; tokens signed by the old one stay valid. */
  rotateKey(): Promise<{ kid: string }>;
  listUsers(): Promise<UserJson[]>;
  setRole(identity: string, role: Role): Promise<UserJson>;
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** What the call does, for messages: "list service accounts". */
  what: string;
  /** The call names a thing (a service account): its 404 may mean "no such name". */
  named?: string;
}

export function createAdminClient(client: CookieBridgeClient): AdminClient {
  const { endpoint } = client;

  async function send(call: Call): Promise<{ status: number; json: unknown }> {
    const stateChanging = call.method !== 'GET';
    const response = await client.fetch(call.path, {
      method: call.method,
      headers: {
        accept: 'application/json',
        // serve takes state-changing admin calls only as JSON (its CSRF rule): every one carries a JSON body.
        ...(stateChanging ? { 'content-type': 'application/json' } : {}),
      },
      ...(stateChanging ? { body: JSON.stringify(call.body ?? {}) } : {}),
    });
    const text = await response.text();
    const isJson = /^application\/(?:[\w.+-]+\+)?json\b/i.test(
      String(response.headers['content-type'] ?? ''),
    );
    let json: unknown;
    if (isJson) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: response.status, json };
  }

  async function call<T>(request: Call, accept: (json: unknown) => json is T): Promise<T> {
    const { status, json } = await send(request);
    if (status >= 200 && status < 300) {
      if (accept(json)) return json;
      // A 2xx that is not the admin API's JSON: the path went to the app (serve without service accounts).
      throw noServiceAccounts(status, request);
    }
    throw await refusal(status, asAdminError(json), request);
  }

  async function refusal(status: number, answer: AdminErrorJson | undefined, request: Call): Promise<Error> {
    const message = answer === undefined ? undefined : serverText(answer.message);
    if (status === 401 && answer?.error === 'token_invalid') {
      const reason = typeof answer.reason === 'string' ? serverText(answer.reason, 40) : 'unknown reason';
      return new TokenRejectedError(endpoint, reason, message ?? 'token refused');
    }
    if (status === 403 && answer?.error === 'forbidden') {
      const caller = await whoAmI();
      const admins = typeof answer.admins === 'string' ? serverText(answer.admins) : undefined;
      const who =
        caller === undefined ? undefined : { identity: serverText(caller.identity), role: caller.role };
      return new ForbiddenError(message ?? `only admins may ${request.what}`, who, admins);
    }
    if (status === 404) {
      // Either the name is unknown, or the server has no admin API: GET /me answers only in the second case.
      if (request.named !== undefined && answer?.error === 'not_found' && (await whoAmI()) !== undefined) {
        return new AdminApiError(
          'E_NOT_FOUND',
          status,
          message ?? `${request.named} is unknown to ${endpoint}`,
        );
      }
      return noServiceAccounts(status, request);
    }
    if (status === 400) {
      return new UsageError(`${endpoint} refused to ${request.what}: ${message ?? 'HTTP 400'}`, {
        hint: "the server's message says what it takes",
      });
    }
    if (status === 409)
      return new AdminApiError(
        'E_EXISTS',
        status,
        `cannot ${request.what}: ${message ?? 'it exists already'}`,
      );
    if (status === 401) {
      return new AdminApiError(
        'E_ADMIN_REFUSED',
        status,
        `${endpoint} does not know who you are (HTTP 401${message === undefined ? '' : `: ${message}`})`,
        {
          hint: 'serve believes the identity header only from its trusted proxy: check the auth proxy passes it (serve --trusted-proxy, --proxy-secret-file)',
        },
      );
    }
    const detail = message === undefined ? `HTTP ${status}` : `HTTP ${status}: ${message}`;
    return new AdminApiError('E_ADMIN_REFUSED', status, `cannot ${request.what} on ${endpoint} (${detail})`);
  }

  function noServiceAccounts(status: number, request: Call): AdminApiError {
    return new AdminApiError(
      'E_NO_SERVICE_ACCOUNTS',
      status,
      `cannot ${request.what}: ${endpoint} has no service accounts (serve --service-accounts); ${request.method} ${request.path} answered HTTP ${status}, not the admin API`,
    );
  }

  /** GET /me, or undefined when it does not answer as the admin API (used to explain another refusal). */
  async function whoAmI(): Promise<AdminMeJson | undefined> {
    const { status, json } = await send({ method: 'GET', path: ADMIN_API_PATHS.me, what: 'ask who you are' });
    return status === 200 && isAdminMeJson(json) ? json : undefined;
  }

  return {
    endpoint,
    credentialSource: client.credentialSource,
    me: () => call({ method: 'GET', path: ADMIN_API_PATHS.me, what: 'ask who you are' }, isAdminMeJson),
    listServiceAccounts: async () =>
      (
        await call(
          { method: 'GET', path: ADMIN_API_PATHS.serviceAccounts, what: 'list service accounts' },
          (json): json is { serviceAccounts: ServiceAccountJson[] } =>
            listOf(json, 'serviceAccounts', isServiceAccountJson),
        )
      ).serviceAccounts,
    createServiceAccount: (body) =>
      call(
        { method: 'POST', path: ADMIN_API_PATHS.serviceAccounts, body, what: 'create service accounts' },
        (json): json is CreatedServiceAccountJson =>
          isServiceAccountJson(json) && typeof (json as { token?: unknown }).token === 'string',
      ),
    revokeServiceAccount: (name) =>
      call(
        {
          method: 'DELETE',
          path: ADMIN_API_PATHS.serviceAccount(name),
          what: 'revoke service accounts',
          named: `service account ${JSON.stringify(name)}`,
        },
        isServiceAccountJson,
      ),
    rotateKey: () =>
      call(
        { method: 'POST', path: ADMIN_API_PATHS.rotateKey, what: 'rotate the signing key' },
        (json): json is { kid: string } => typeof (json as { kid?: unknown } | null)?.kid === 'string',
      ),
    listUsers: async () =>
      (
        await call(
          { method: 'GET', path: ADMIN_API_PATHS.users, what: 'list users' },
          (json): json is { users: UserJson[] } => listOf(json, 'users', isUserJson),
        )
      ).users,
    setRole: (identity, role) =>
      call(
        {
          method: 'PUT',
          path: ADMIN_API_PATHS.userRole(identity),
          body: { role },
          what: 'change roles',
        },
        isUserJson,
      ),
  };
}

function listOf(json: unknown, field: string, isItem: (value: unknown) => boolean): boolean {
  if (typeof json !== 'object' || json === null) return false;
  const list = (json as Record<string, unknown>)[field];
  return Array.isArray(list) && list.every(isItem);
}

import {
  classifyAuthProxyResponse,
  INSPECTED_BODY_BYTES,
  type AuthProxySignal,
} from '../protocol/auth-proxy-signals';
import { resolveEndpointUrl } from '../protocol/endpoint';
import {
  readResponseText,
  systemHttpClient,
  type HttpRequest,
  type OutgoingHeaders,
} from '../http/http-request';
import { namedUser } from '../protocol/named-user';
import { describeHeaders, redactUrl } from '../protocol/redact';
import { debugShown, type Logger } from '../context';

export interface VerificationResult {
  /** The proxy still bounces the request: the credential is not good. */
  rejectedBy?: AuthProxySignal;
  status: number;
  /** `user` from the health JSON, when it names someone (not null, "" or Apache's "(null)"). */
  user?: string;
  /** Set-Cookie headers the answer carried (proxies rotate sessions): to be saved. */
  setCookies: string[];
  healthUrl: URL;
}

/** GET <endpoint>/api/health with the credential headers, and judge the answer. */
export async function verifyCredential(
  endpoint: string,
  headers: OutgoingHeaders,
  options: { logger: Logger; timeoutMs?: number; request?: HttpRequest },
): Promise<VerificationResult> {
  const healthUrl = resolveEndpointUrl(endpoint, '/api/health');
  const requestHeaders: OutgoingHeaders = { accept: 'application/json', ...headers };
  const debug = debugShown(options.logger);
  if (debug) options.logger.debug(`verify: GET ${redactUrl(healthUrl)}\n${describeHeaders(requestHeaders)}`);
  const response = await (options.request ?? systemHttpClient.request)(healthUrl, {
    headers: requestHeaders,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const body = await readResponseText(response, 64 * 1024);
  if (debug) options.logger.debug(`verify: ${response.status}\n${describeHeaders(response.headers)}`);
  const setCookies = response.headers['set-cookie'] ?? [];
  const signal = classifyAuthProxyResponse({
    endpoint,
    requestUrl: healthUrl.toString(),
    status: response.status,
    headers: response.headers,
    bodySnippet: body.slice(0, INSPECTED_BODY_BYTES),
    expectJson: true,
    healthProbe: true,
  });
  const result: VerificationResult = { status: response.status, setCookies, healthUrl };
  if (signal !== undefined) return { ...result, rejectedBy: signal };
  const user = userFromJson(body);
  return user === undefined ? result : { ...result, user };
}

function userFromJson(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null) {
      return namedUser((parsed as Record<string, unknown>).user);
    }
  } catch {
    // not JSON: no identity to report
  }
  return undefined;
}

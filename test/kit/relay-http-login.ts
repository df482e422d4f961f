import { randomBytes } from 'node:crypto';
import * as http from 'node:http';

import { HTTP_REQUEST_TIMEOUT_MS, REDIS_RECOVERY_WAIT_MS } from '../../fixtures/real-components/budgets';
import { pollUntil } from './poll-until';
import { relayChallengeFor, relayCode } from '../../src/protocol/relay-protocol';

/**
 * A relay login driven over plain HTTP, step by step, the way the CLI (register, claim) and a browser behind the
 * auth proxy (the /token?relay page, the confirm form) send it: for tests that run many at once or stop the
 * store between two steps. The identity header is set as the proxy sets it; serve believes it from loopback.
 */

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RelayHttpLogin {
  verifier: string;
  challenge: string;
  code: string;
  state: string;
  email: string;
  /** The value of the proxy's session cookie (`_oauth2_proxy`) the browser carries. */
  session: string;
  /** The loopback address the CLI's requests come from (serve bounds pending logins per source address). */
  source: string;
}

/** One request on its own connection (from `localAddress` when given), bounded by HTTP_REQUEST_TIMEOUT_MS. */
export function sendRequest(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; localAddress?: string } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        timeout: HTTP_REQUEST_TIMEOUT_MS,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A new login: verifier and challenge, code, state, identity `user-<index>@example.com`, source address. */
export function newRelayHttpLogin(index: number, source = '127.0.0.1'): RelayHttpLogin {
  const verifier = randomBytes(32).toString('base64url');
  return {
    verifier,
    challenge: relayChallengeFor(verifier),
    code: relayCode(randomBytes(16).toString('base64url')),
    state: randomBytes(32).toString('base64url'),
    email: `user-${index}@example.com`,
    session: randomBytes(24).toString('base64url'),
    source,
  };
}

/** POST /cookie-bridge/relay/register, as the CLI sends it. */
export function registerRelay(base: string, login: RelayHttpLogin): Promise<HttpReply> {
  return postJson(
    `${base}/cookie-bridge/relay/register`,
    { challenge: login.challenge, code: login.code },
    login,
  );
}

/** POST /cookie-bridge/relay/claim, as the CLI sends it. */
export function claimRelay(base: string, login: RelayHttpLogin): Promise<HttpReply> {
  return postJson(`${base}/cookie-bridge/relay/claim`, { verifier: login.verifier }, login);
}

/** The /token?state=…&relay=… page, as the browser's navigation reaches serve through the proxy. */
export function openRelayPage(base: string, login: RelayHttpLogin): Promise<HttpReply> {
  return sendRequest(`${base}/token?state=${login.state}&relay=${login.challenge}`, {
    headers: browserHeaders(login),
  });
}

/** The confirm form's post (its hidden fields from `page`, the typed code), as the browser sends it. */
export function postRelayConfirm(base: string, login: RelayHttpLogin, page: string): Promise<HttpReply> {
  return sendRequest(`${base}/token/relay`, {
    method: 'POST',
    headers: browserHeaders(login, {
      'content-type': 'application/x-www-form-urlencoded',
      origin: base,
      'sec-fetch-site': 'same-origin',
    }),
    body: new URLSearchParams({ ...relayConfirmFields(page), code: login.code }).toString(),
  });
}

/** The hidden inputs of the page's #relay-confirm-form (challenge, form_token, state). */
export function relayConfirmFields(html: string): Record<string, string> {
  const form = /<form id="relay-confirm-form"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
  const fields: Record<string, string> = {};
  for (const match of form.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = match[2] ?? '';
  }
  return fields;
}

function postJson(url: string, payload: object, login: RelayHttpLogin): Promise<HttpReply> {
  return sendRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(payload),
    localAddress: login.source,
  });
}

/** A top-level navigation or form post as the auth proxy forwards it: session cookie, identity header. */
function browserHeaders(
  login: RelayHttpLogin,
  extra: http.OutgoingHttpHeaders = {},
): http.OutgoingHttpHeaders {
  return {
    accept: 'text/html',
    cookie: `_oauth2_proxy=${login.session}`,
    'x-auth-request-email': login.email,
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    ...extra,
  };
}

/** An answer, and whether 503 relay_store_unavailable answers came before it. */
export interface AnsweredReply {
  reply: HttpReply;
  retried: boolean;
}

/**
 * Sends `call` again while it answers 503 (the store unavailable or slower than serve's command timeout), as the
 * CLI does with its claim and a person with a "reload in a few seconds" page; bounded by REDIS_RECOVERY_WAIT_MS.
 */
export async function askUntilAnswered(what: string, call: () => Promise<HttpReply>): Promise<AnsweredReply> {
  let retried = false;
  const reply = await pollUntil(what, REDIS_RECOVERY_WAIT_MS, async () => {
    const answer = await call();
    if (answer.status !== 503) return answer;
    retried = true;
    return undefined;
  });
  return { reply, retried };
}

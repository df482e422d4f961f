/**
 * The one refusal type: a request one of cookie-bridge's own listeners (the login's loopback listener, the
 * local forwarding proxy, the server half) will not take. It carries the HTTP status, a stable snake_case
 * `code` for scripts and pages, a message free of secrets, and whether the connection must be dropped
 * (the body was not read to its end). One JSON renderer and one HTML renderer turn it into an answer.
 *
 * A Refusal is an answer on the wire, not a failure of the command: the CLI's errors are CookieBridgeErrors
 * (src/errors.ts); a refusal never reaches the terminal except in --debug lines.
 */
import { escapeHtml } from '../protocol/escape-html';

/** Every code a Refusal may carry; the JSON answer's `error` field. */
export type RefusalCode =
  | 'bad_request'
  | 'misdirected_request'
  | 'cross_origin_refused'
  | 'secret_required'
  | 'secret_invalid'
  | 'state_mismatch'
  | 'stateless_bundle'
  | 'invalid_bundle'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'login_finished'
  | 'exists'
  | 'relay_full'
  | 'relay_source_full'
  | 'relay_ended'
  | 'session_expired'
  | 'not_signed_in'
  | 'token_invalid'
  | 'forbidden'
  | 'bad_gateway'
  | 'gateway_timeout'
  | 'internal_error';

export class Refusal extends Error {
  readonly status: number;
  readonly code: RefusalCode;
  /** Drop the connection after answering (the body was not read to its end). */
  readonly dropConnection: boolean;

  /** `message` must be free of secrets: it is logged and shown to the client. */
  constructor(status: number, code: RefusalCode, message: string, dropConnection = false) {
    super(message);
    this.name = 'Refusal';
    this.status = status;
    this.code = code;
    this.dropConnection = dropConnection;
  }
}

/** The JSON answer's object: `{"error": code, "message": message}`, as every listener of ours answers. */
export function refusalBody(refusal: Refusal): { error: RefusalCode; message: string } {
  return { error: refusal.code, message: refusal.message };
}

/** The JSON answer's text. */
export function renderRefusalJson(refusal: Refusal): string {
  return `${JSON.stringify(refusalBody(refusal))}\n`;
}

/**
 * The HTML answer for a browser: the message, escaped, then `next` (what happens now, e.g. "the terminal is
 * still waiting"). Nothing secret is ever put into a page.
 */
export function renderRefusalHtml(refusal: Refusal, next: string): string {
  return renderPlainPage(
    `cookie-bridge: ${refusal.status}`,
    'cookie-bridge did not accept this request',
    `${refusal.message} ${next}`,
  );
}

/** A small self-contained page (no script, no external resource); every argument is escaped here. */
export function renderPlainPage(title: string, heading: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>',
    '</head><body>',
    `<h1>${escapeHtml(heading)}</h1>`,
    `<p>${escapeHtml(body)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * The small pages the CLI's loopback listener answers a browser with. Everything echoed is escaped;
 * nothing secret (bundle, cookie values, state) is ever put into a page.
 */
import { escapeHtml } from '../protocol/escape-html';

function renderPage(title: string, heading: string, body: string): string {
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

/** Shown after a form POST delivered a valid bundle. */
export function renderSignedInPage(): string {
  return renderPage(
    'cookie-bridge: signed in',
    'Signed in',
    'Signed in — you can close this tab and return to the terminal.',
  );
}

/** Shown when the listener refuses a request; `message` must already be free of secrets (it is escaped here). */
export function renderRefusalPage(status: number, message: string): string {
  return renderPage(
    `cookie-bridge: ${status}`,
    'cookie-bridge did not accept this request',
    `${message} The terminal is still waiting for the login; nothing was saved.`,
  );
}

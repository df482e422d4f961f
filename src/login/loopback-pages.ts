/**
 * The small pages the CLI's loopback listener answers a browser with. Everything echoed is escaped;
 * nothing secret (bundle, cookie values, state) is ever put into a page.
 */
import { renderPlainPage, renderRefusalHtml, type Refusal } from '../http/refusal';

/** Shown after a form POST delivered a valid bundle. */
export function renderSignedInPage(): string {
  return renderPlainPage(
    'cookie-bridge: signed in',
    'Signed in',
    'Signed in — you can close this tab and return to the terminal.',
  );
}

/** Shown when the listener refuses a request; the refusal's message is free of secrets (and escaped). */
export function renderRefusalPage(refusal: Refusal): string {
  return renderRefusalHtml(refusal, 'The terminal is still waiting for the login; nothing was saved.');
}

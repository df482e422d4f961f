/**
 * The HTML of the /token page: pure functions, no I/O. Every interpolated value goes through escapeHtml,
 * which is safe in text and in double- or single-quoted attributes. Scripts and styles carry the
 * per-response CSP nonce; nothing is loaded from elsewhere.
 */
import { escapeHtml } from '../protocol/escape-html';
import { relayRequestLifetimeText } from './relay-messages';
import type { RelaySource } from './relay-store';

export interface TokenPageInput {
  /** The encoded cookie bundle (see protocol/bundle-codec.ts). */
  bundle: string;
  /** Who the auth proxy says is signed in. */
  user?: string;
  /** Where to POST the bundle: the CLI's loopback listener and the state it expects. */
  handoff?: { port: number; state: string };
  /**
   * Relay login (see protocol/relay-protocol.ts): the challenge the confirm form posts, the login state (echoed
   * into the bundle) and when and from where the terminal registered it. The code is never on the page: the
   * person types it. With `handoff` too, the page first tries the loopback with fetch.
   */
  relay?: RelayBoxInput;
  /** True when no auth-proxy session cookie was found and the bundle carries every cookie. */
  allCookies?: boolean;
  /** The CSP nonce of this response. */
  nonce: string;
}

export interface RelayBoxInput {
  challenge: string;
  /** The confirm form's token (navigation-guard.ts: only this page shows it). */
  formToken: string;
  state?: string;
  /** When the terminal registered the challenge, and the time now (ms since the epoch). */
  registeredAt: number;
  now: number;
  /** How long the store keeps the request (`serve --relay-ttl`), which the box states. */
  ttlMs: number;
  source: RelaySource;
}

/** The loopback URL the hand-off form posts to. */
export function handoffUrl(port: number): string {
  return `http://127.0.0.1:${port}/callback`;
}

const STYLE = `
  :root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; --border: #d1d5db; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { max-width: 42rem; margin: 3rem auto; padding: 0 1.25rem; }
  h1 { font-size: 1.5rem; margin: 0 0 0.5rem; }
  p { margin: 0.5rem 0; }
  .muted { color: var(--muted); font-size: 0.9rem; }
  .status { padding: 0.75rem 1rem; border-radius: 0.5rem; border: 1px solid var(--border); margin: 1rem 0; }
  .error, .warning { border-color: #dc2626; }
  input[name="code"] { font: 1.2rem ui-monospace, monospace; letter-spacing: 0.1em; width: 11ch; padding: 0.3rem; }
  textarea { width: 100%; min-height: 8rem; padding: 0.5rem; font: 0.8rem/1.4 ui-monospace, monospace;
    border: 1px solid var(--border); border-radius: 0.5rem; resize: vertical; word-break: break-all; }
  .actions { display: flex; gap: 0.5rem; flex-wrap: wrap; align-items: center; margin: 0.75rem 0; }
  button { font: inherit; padding: 0.4rem 1rem; border-radius: 0.5rem; border: 1px solid var(--accent);
    background: var(--accent); color: #fff; cursor: pointer; }
  button.secondary { background: transparent; color: var(--accent); }
  code { font-family: ui-monospace, monospace; }
`;

const SCRIPT = `
(function () {
  var box = document.getElementById('bundle');
  var copy = document.getElementById('copy');
  var copied = document.getElementById('copied');
  function selectBundle() { box.focus(); box.select(); }
  copy.addEventListener('click', function () {
    function done() { copied.textContent = 'Copied.'; }
    function fallback() {
      selectBundle();
      try { if (document.execCommand('copy')) { done(); return; } } catch (e) { /* ignore */ }
      copied.textContent = 'Press Ctrl+C (Cmd+C) to copy the selected text.';
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(done, fallback);
    } else {
      fallback();
    }
  });
  var form = document.getElementById('handoff');
  if (!form) return;
  var relayBox = document.getElementById('relay-box');
  if (relayBox && form.getAttribute('data-mode') === 'fetch') {
    // Relay login offered: try the loopback quietly; show the confirm box only when it cannot be reached.
    var sending = document.getElementById('handoff-status');
    relayBox.hidden = true;
    var payload = JSON.stringify({
      bundle: form.elements.namedItem('bundle').value,
      state: form.elements.namedItem('state').value
    });
    function showRelay() {
      if (sending) sending.textContent = 'Your browser could not reach the terminal directly.';
      relayBox.hidden = false;
    }
    try {
      fetch(form.action, {
        method: 'POST', mode: 'cors', credentials: 'omit', cache: 'no-store',
        headers: { 'Content-Type': 'application/json' }, body: payload
      }).then(function (response) {
        if (!response.ok) { showRelay(); return; }
        document.getElementById('handoff-box').hidden = true;
        document.getElementById('handoff-done').hidden = false;
      }, showRelay);
    } catch (e) { showRelay(); }
    return;
  }
  var key = 'cookie-bridge-sent:' + form.elements.namedItem('state').value;
  try {
    if (window.sessionStorage.getItem(key)) return;
    window.sessionStorage.setItem(key, '1');
  } catch (e) { /* storage blocked: send anyway */ }
  form.submit();
})();
`;

/** The /token page: who is signed in, the bundle to copy, and (with `handoff`) the auto-submitted form. */
export function renderTokenPage(input: TokenPageInput): string {
  const who =
    input.user === undefined
      ? '<p>You are signed in.</p>'
      : `<p>Signed in as <strong id="user">${escapeHtml(input.user)}</strong>.</p>`;
  const fetchMode = input.handoff !== undefined && input.relay !== undefined;
  const handoff =
    input.handoff === undefined
      ? ''
      : `
    <div class="status" id="handoff-box">
      <p id="handoff-status">Sending the sign-in to your terminal: the program listening on
        <strong id="handoff-port">127.0.0.1:${input.handoff.port}</strong> (local port ${input.handoff.port} of this computer)&hellip;</p>
      <form id="handoff" method="post" action="${escapeHtml(handoffUrl(input.handoff.port))}"${fetchMode ? ' data-mode="fetch"' : ''}>
        <input type="hidden" name="bundle" value="${escapeHtml(input.bundle)}">
        <input type="hidden" name="state" value="${escapeHtml(input.handoff.state)}">
        <button type="submit">Send to terminal</button>
      </form>
      <p class="muted">If nothing happens, press <em>Send to terminal</em>, or paste the text below.</p>
    </div>${fetchMode ? '\n    <div class="status" id="handoff-done" hidden><p>Signed in &mdash; return to the terminal.</p></div>' : ''}`;
  const body = `
    <h1>cookie-bridge sign-in</h1>
    ${who}${input.allCookies === true ? ALL_COOKIES_NOTICE : ''}${handoff}${input.relay === undefined ? '' : renderRelayBox(input.relay)}
    <p>Paste this into the terminal if it did not sign in by itself:</p>
    <textarea id="bundle" readonly spellcheck="false" aria-label="Sign-in bundle">${escapeHtml(input.bundle)}</textarea>
    <div class="actions">
      <button type="button" id="copy" class="secondary">Copy</button>
      <span id="copied" class="muted" role="status"></span>
    </div>
    <p class="muted">This text lets a terminal act as you on this site: do not share it.</p>`;
  return layout('cookie-bridge sign-in', body, input.nonce, SCRIPT);
}

const ALL_COOKIES_NOTICE = `
    <p class="muted" id="all-cookies-notice">No session cookie of a known auth proxy was found, so this sign-in
      carries <strong>all</strong> the cookies your browser sent to this site. The operator can name the proxy's
      cookie with <code>cookie-bridge serve --session-cookie NAME</code>.</p>`;

/** "2026-12-02 04:31:07 UTC (2 min ago)". */
export function describeRequestTime(at: number, now: number): string {
  const when = new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  const ago = seconds < 60 ? `${seconds} s ago` : `${Math.floor(seconds / 60)} min ago`;
  return `${when} (${ago})`;
}

/** The relay confirm box: who asked and when, the code field and the form that posts to /token/relay. */
function renderRelayBox(relay: RelayBoxInput): string {
  const state =
    relay.state === undefined
      ? ''
      : `\n        <input type="hidden" name="state" value="${escapeHtml(relay.state)}">`;
  const socket = `<strong id="relay-source">${escapeHtml(relay.source.address)}</strong>`;
  const from =
    relay.source.forwardedFor === undefined
      ? socket
      : `<strong id="relay-forwarded-for">${escapeHtml(relay.source.forwardedFor)}</strong> (as the proxy in front ` +
        `reported it; the connection came from ${socket})`;
  // Relative, so the form also works when the proxy serves the app under a path prefix.
  return `
    <div class="status" id="relay-box">
      <p>A terminal asked to receive your sign-in at <strong id="relay-requested-at">${escapeHtml(
        describeRequestTime(relay.registeredAt, relay.now),
      )}</strong> from ${from}. <span id="relay-lifetime">${escapeHtml(relayRequestLifetimeText(relay.ttlMs))}</span></p>
      <p><strong>Type the code your own terminal shows.</strong> If someone sent you this link or a code, stop:
        confirming hands your sign-in to whoever started it.</p>
      <form id="relay-confirm-form" method="post" action="token/relay">
        <input type="hidden" name="challenge" value="${escapeHtml(relay.challenge)}">
        <input type="hidden" name="form_token" value="${escapeHtml(relay.formToken)}">${state}
        <label for="relay-code-input">Code from your terminal:</label>
        <input id="relay-code-input" name="code" required autocomplete="off" autocapitalize="characters"
          spellcheck="false" maxlength="20" placeholder="XXXX-XXXX">
        <button type="submit" id="relay-confirm">Confirm sign-in</button>
      </form>
    </div>`;
}

/** The answer to a relay confirm: the terminal can now pick the sign-in up. No script. */
export function renderRelayConfirmedPage(input: { user?: string; nonce: string }): string {
  const who = input.user === undefined ? '' : ` as <strong id="user">${escapeHtml(input.user)}</strong>`;
  const body = `
    <h1>Confirmed &mdash; return to your terminal</h1>
    <div class="status" id="relay-confirmed" role="status">
      <p>The terminal that showed this code will sign in${who} within a few seconds.</p>
    </div>
    <p class="muted">You can close this page.</p>`;
  return layout('cookie-bridge sign-in confirmed', body, input.nonce, undefined);
}

/**
 * The answer when a sign-in request was already confirmed: someone else may have confirmed it first, with
 * their own sign-in or (if they had the code) yours. No script.
 */
export function renderRelayAlreadyConfirmedPage(nonce: string): string {
  const body = `
    <h1>Warning: this sign-in was already confirmed</h1>
    <div class="status warning" id="relay-warning" role="alert">
      <p>This sign-in request had already been confirmed before, possibly by someone else.</p>
      <p>If your terminal did not sign in, or shows a different user than you, <strong>sign out at the
        sign-in proxy of this site now</strong> (end your session there) and start the login again from the
        terminal. Never confirm a link or code that someone else sent you.</p>
    </div>`;
  return layout('cookie-bridge sign-in: already confirmed', body, nonce, undefined);
}

/** An error page for /token: the message is escaped; no script. */
export function renderTokenErrorPage(message: string, nonce: string): string {
  const body = `
    <h1>cookie-bridge sign-in failed</h1>
    <div class="status error" role="alert"><p id="error">${escapeHtml(message)}</p></div>
    <p class="muted">Start the login again from the terminal: <code>cookie-bridge api login -e &lt;endpoint&gt;</code></p>`;
  return layout('cookie-bridge sign-in failed', body, nonce, undefined);
}

function layout(title: string, body: string, nonce: string, script: string | undefined): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <style nonce="${n}">${STYLE}</style>
</head>
<body>
  <main>${body}
  </main>${script === undefined ? '' : `\n  <script nonce="${n}">${script}</script>`}
</body>
</html>
`;
}

import { escapeHtml } from '../../src/protocol/escape-html';
import {
  describeRequestTime,
  handoffUrl,
  renderRelayAlreadyConfirmedPage,
  renderRelayConfirmedPage,
  renderTokenErrorPage,
  renderTokenPage,
} from '../../src/server/token-page';

const HOSTILE = `"><script>alert('x')</script><img src=x onerror=alert(1)>&amp;'\``;
const NONCE = 'bm9uY2Vub25jZW5vbmNl';

/** The tags in the page, to check what markup exists without a DOM. */
function tags(html: string, name: string): string[] {
  return html.match(new RegExp(`<${name}\\b[^>]*>`, 'g')) ?? [];
}

describe('escapeHtml', () => {
  it.each([
    ['<a href="x">', '&lt;a href=&quot;x&quot;&gt;'],
    ["it's & `x`", 'it&#39;s &amp; &#96;x&#96;'],
    ['plain', 'plain'],
    [8080, '8080'],
  ])('%p → %p', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });
});

describe('renderTokenPage', () => {
  const bundle = 'cb1.eyJ2IjoxfQ';

  it('shows the user, the bundle in a read-only textarea and the copy button', () => {
    const html = renderTokenPage({ bundle, user: 'ada@example.com', nonce: NONCE });
    expect(html).toContain('<strong id="user">ada@example.com</strong>');
    expect(html).toMatch(/<textarea id="bundle" readonly[^>]*>cb1\.eyJ2IjoxfQ<\/textarea>/);
    expect(html).toContain('id="copy"');
    expect(html).toContain('navigator.clipboard');
    expect(html).toContain('Paste this into the terminal if it did not sign in by itself');
  });

  it('has no hand-off form without handoff', () => {
    const html = renderTokenPage({ bundle, nonce: NONCE });
    expect(tags(html, 'form')).toEqual([]);
    expect(tags(html, 'input')).toEqual([]);
    expect(html).not.toContain('127.0.0.1');
    expect(html).not.toContain('id="user"');
  });

  it('with handoff, posts the bundle and state to the loopback listener', () => {
    const html = renderTokenPage({ bundle, nonce: NONCE, handoff: { port: 49152, state: 'st4te_-x' } });
    expect(tags(html, 'form')).toEqual([
      '<form id="handoff" method="post" action="http://127.0.0.1:49152/callback">',
    ]);
    expect(tags(html, 'input')).toEqual([
      `<input type="hidden" name="bundle" value="${bundle}">`,
      '<input type="hidden" name="state" value="st4te_-x">',
    ]);
    expect(html).toMatch(/<button type="submit">Send to terminal<\/button>/);
    // Says where the sign-in goes.
    expect(html).toContain(
      '<strong id="handoff-port">127.0.0.1:49152</strong> (local port 49152 of this computer)',
    );
    expect(html).toContain('form.submit()');
    expect(handoffUrl(49152)).toBe('http://127.0.0.1:49152/callback');
  });

  it('puts the nonce on every script and style tag, and on nothing else', () => {
    const html = renderTokenPage({ bundle, nonce: NONCE, handoff: { port: 50000, state: 's' } });
    const scripts = tags(html, 'script');
    const styles = tags(html, 'style');
    expect(scripts).toEqual([`<script nonce="${NONCE}">`]);
    expect(styles).toEqual([`<style nonce="${NONCE}">`]);
    expect(html.split(NONCE)).toHaveLength(3);
    // No inline event handlers or external resources, which the CSP would block.
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\s(src|href)=/i);
  });

  it('escapes hostile user, bundle, state and nonce values', () => {
    const html = renderTokenPage({
      bundle: HOSTILE,
      user: HOSTILE,
      nonce: HOSTILE,
      handoff: { port: 50000, state: HOSTILE },
    });
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).not.toContain("<script>alert('x')");
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
    // Exactly one script tag: ours.
    expect(tags(html, 'script')).toHaveLength(1);
    for (const input of tags(html, 'input'))
      expect(input).toMatch(/^<input type="hidden" name="\w+" value="[^"<>']*">$/);
  });
});

describe('renderTokenPage with a relay box', () => {
  const relay = {
    challenge: 'c'.repeat(43),
    formToken: 'f0rm-t0ken',
    state: 'st4te',
    registeredAt: Date.UTC(2026, 11, 2, 4, 31, 7),
    now: Date.UTC(2026, 11, 2, 4, 33, 20),
    ttlMs: 300_000,
    source: { address: '::ffff:127.0.0.1', forwardedFor: '203.0.113.9' },
  };

  it('says when and from where the sign-in was requested, asks for the code, and posts it with the challenge', () => {
    const html = renderTokenPage({ bundle: 'cb1.x', nonce: NONCE, relay });
    expect(html).toContain('<strong id="relay-requested-at">2026-12-02 04:31:07 UTC (2 min ago)</strong>');
    expect(html).toContain('<strong id="relay-source">::ffff:127.0.0.1</strong>');
    expect(html).toContain(
      'from <strong id="relay-forwarded-for">203.0.113.9</strong> (as the proxy in front reported it',
    );
    expect(html).toContain('Type the code your own terminal shows.');
    expect(html).toContain(
      '<span id="relay-lifetime">The request stays open for 5 minutes after the terminal made it.</span>',
    );
    expect(tags(html, 'form')).toEqual(['<form id="relay-confirm-form" method="post" action="token/relay">']);
    expect(html).toMatch(/<input id="relay-code-input" name="code" required/);
    expect(html).toContain(`<input type="hidden" name="challenge" value="${relay.challenge}">`);
    expect(html).toContain('<input type="hidden" name="state" value="st4te">');
    expect(html).toContain('<input type="hidden" name="form_token" value="f0rm-t0ken">');
  });

  it.each([
    [90_000, '90 seconds'],
    [7_200_000, '2 hours'],
  ])("states the store's lifetime of %d ms as %s", (ttlMs, words) => {
    const html = renderTokenPage({ bundle: 'cb1.x', nonce: NONCE, relay: { ...relay, ttlMs } });
    expect(html).toContain(`The request stays open for ${words} after the terminal made it.`);
    expect(html).not.toContain('5 minutes');
  });

  it('escapes a hostile forwarded address', () => {
    const html = renderTokenPage({
      bundle: 'cb1.x',
      nonce: NONCE,
      relay: { ...relay, source: { address: HOSTILE, forwardedFor: HOSTILE } },
    });
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
  });

  it('describes request times in seconds, then minutes', () => {
    expect(describeRequestTime(0, 59_000)).toBe('1970-01-01 00:00:00 UTC (59 s ago)');
    expect(describeRequestTime(0, 60_000)).toBe('1970-01-01 00:00:00 UTC (1 min ago)');
  });

  it('says when the bundle carries all cookies because no session cookie was found', () => {
    expect(renderTokenPage({ bundle: 'cb1.x', nonce: NONCE, allCookies: true })).toContain(
      'id="all-cookies-notice"',
    );
    expect(renderTokenPage({ bundle: 'cb1.x', nonce: NONCE })).not.toContain('all-cookies-notice');
  });

  it('the confirmed page reassures; the already-confirmed page warns to sign out at the proxy', () => {
    expect(renderRelayConfirmedPage({ nonce: NONCE })).toContain('id="relay-confirmed"');
    const warning = renderRelayAlreadyConfirmedPage(NONCE);
    expect(warning).toContain('id="relay-warning"');
    expect(warning).toContain('sign out at the\n        sign-in proxy');
    expect(warning).not.toContain('relay-confirmed');
    expect(tags(warning, 'script')).toEqual([]);
  });
});

describe('renderTokenErrorPage', () => {
  it('shows the escaped message, with a nonce style and no script', () => {
    const html = renderTokenErrorPage(`bad ${HOSTILE}`, NONCE);
    expect(html).toContain('<p id="error">bad &quot;&gt;&lt;script&gt;');
    expect(html).not.toContain(HOSTILE);
    expect(tags(html, 'script')).toEqual([]);
    expect(tags(html, 'style')).toEqual([`<style nonce="${NONCE}">`]);
    expect(tags(html, 'form')).toEqual([]);
  });
});

import {
  formatCookiesJson,
  formatCredentialHeader,
  formatNetscapeCookies,
  looksLikeCookieExport,
  NETSCAPE_HEADER,
  parseCookieExportFormat,
  type ExportableCookie,
} from '../../src/protocol/cookie-export';

const base: ExportableCookie = {
  name: 'session',
  value: 'v1',
  domain: 'api.example.com',
  path: '/',
  secure: false,
  httpOnly: true,
  hostOnly: true,
};

/**
 * A minimal reader of Netscape cookie lines as curl's cookie.c reads them: comment and blank lines skipped,
 * seven tab-separated fields, a leading dot on the domain dropped.
 */
function readNetscape(text: string): Array<Record<string, string | boolean | number>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const fields = line.split('\t');
      expect(fields).toHaveLength(7);
      const [domain = '', tail = '', path = '', secure = '', expires = '', name = '', value = ''] = fields;
      return {
        domain: domain.replace(/^\./, ''),
        subdomains: tail === 'TRUE',
        path,
        secure: secure === 'TRUE',
        expires: Number(expires),
        name,
        value,
      };
    });
}

describe('formatNetscapeCookies', () => {
  it('starts with the Netscape header line that curl, wget and yt-dlp look for', () => {
    expect(formatNetscapeCookies([base]).split('\n')[0]).toBe(NETSCAPE_HEADER);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a host-only session cookie', {}, 'api.example.com\tFALSE\t/\tFALSE\t0\tsession\tv1'],
    [
      'a domain cookie (leading dot, TRUE)',
      { hostOnly: false, domain: 'example.com' },
      '.example.com\tTRUE\t/\tFALSE\t0\tsession\tv1',
    ],
    [
      'a cookie whose host-only flag is unknown, as tough-cookie treats it (a domain cookie)',
      { hostOnly: undefined, domain: 'example.com' },
      '.example.com\tTRUE\t/\tFALSE\t0\tsession\tv1',
    ],
    [
      'an IP host, even as a domain cookie: exact (curl and git match IP hosts exactly)',
      { hostOnly: false, domain: '127.0.0.1' },
      '127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tv1',
    ],
    ['an IPv6 host', { hostOnly: false, domain: '::1' }, '::1\tFALSE\t/\tFALSE\t0\tsession\tv1'],
    [
      'a Secure cookie with an expiry (epoch seconds) and a path',
      { secure: true, path: '/api', expires: new Date('2031-01-01T00:00:00.900Z') },
      'api.example.com\tFALSE\t/api\tTRUE\t1924992000\tsession\tv1',
    ],
    [
      // wget 1.21 and Python's MozillaCookieJar drop `#HttpOnly_` lines as comments.
      'an HttpOnly cookie without the #HttpOnly_ prefix',
      { httpOnly: true },
      'api.example.com\tFALSE\t/\tFALSE\t0\tsession\tv1',
    ],
  ])('writes %s', (_name, change, line) => {
    // An undefined in `change` stands for a field the store left out.
    const cookie = Object.fromEntries(
      Object.entries({ ...base, ...change }).filter(([, value]) => value !== undefined),
    ) as unknown as ExportableCookie;
    const text = formatNetscapeCookies([cookie]);
    expect(text.trimEnd().split('\n').at(-1)).toBe(line);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('round-trips every cookie through a Netscape reader, in order (chunked sessions stay in order)', () => {
    const cookies: ExportableCookie[] = [
      { ...base, name: '_oauth2_proxy_0', value: 'a'.repeat(3000), secure: true },
      { ...base, name: '_oauth2_proxy_1', value: 'b=c/d+e', secure: true },
      {
        ...base,
        name: 'prefs',
        value: '',
        domain: 'example.com',
        hostOnly: false,
        httpOnly: false,
        expires: new Date(1_900_000_000_000),
      },
    ];
    expect(readNetscape(formatNetscapeCookies(cookies))).toEqual([
      {
        domain: 'api.example.com',
        subdomains: false,
        path: '/',
        secure: true,
        expires: 0,
        name: '_oauth2_proxy_0',
        value: 'a'.repeat(3000),
      },
      {
        domain: 'api.example.com',
        subdomains: false,
        path: '/',
        secure: true,
        expires: 0,
        name: '_oauth2_proxy_1',
        value: 'b=c/d+e',
      },
      {
        domain: 'example.com',
        subdomains: true,
        path: '/',
        secure: false,
        expires: 1_900_000_000,
        name: 'prefs',
        value: '',
      },
    ]);
  });

  it.each([
    ['a tab in the value', { value: 'a\tb' }],
    ['a line break in the value', { value: 'a\nb' }],
    ['a name that would read as a comment', { name: '#x' }],
  ])('refuses %s (it cannot be one cookies.txt line) without quoting the value', (_name, change) => {
    expect(() => formatNetscapeCookies([{ ...base, ...change }])).toThrow(
      expect.objectContaining({ code: 'E_INTERNAL', hint: expect.stringContaining('--format json') }),
    );
    try {
      formatNetscapeCookies([{ ...base, ...change }]);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('a\tb');
    }
  });

  it('writes only the header for an empty jar', () => {
    expect(readNetscape(formatNetscapeCookies([]))).toEqual([]);
  });
});

describe('formatCookiesJson', () => {
  it('writes the cookie objects of Playwright addCookies / Puppeteer setCookie', () => {
    const text = formatCookiesJson([
      base,
      {
        ...base,
        name: 'd',
        domain: 'example.com',
        hostOnly: false,
        secure: true,
        httpOnly: false,
        sameSite: 'strict',
        expires: new Date(1_900_000_000_500),
      },
      { ...base, name: 'n', sameSite: 'none', secure: true },
    ]);
    expect(JSON.parse(text)).toEqual([
      {
        name: 'session',
        value: 'v1',
        domain: 'api.example.com',
        path: '/',
        expires: -1,
        httpOnly: true,
        secure: false,
        sameSite: 'Lax',
      },
      {
        name: 'd',
        value: 'v1',
        domain: '.example.com',
        path: '/',
        expires: 1_900_000_000,
        httpOnly: false,
        secure: true,
        sameSite: 'Strict',
      },
      {
        name: 'n',
        value: 'v1',
        domain: 'api.example.com',
        path: '/',
        expires: -1,
        httpOnly: true,
        secure: true,
        sameSite: 'None',
      },
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('formatCredentialHeader', () => {
  it.each([
    [{ cookie: 'a=1; b=2' }, 'Cookie: a=1; b=2\n'],
    [{ authorization: 'Bearer t' }, 'Authorization: Bearer t\n'],
    [{}, undefined],
  ])('%j → %j', (headers, line) => {
    expect(formatCredentialHeader(headers)).toBe(line);
  });
});

describe('parseCookieExportFormat', () => {
  it.each(['netscape', 'json', 'header', 'JSON'])('accepts %s', (value) => {
    expect(parseCookieExportFormat(value)).toBe(value.toLowerCase());
  });
  it('refuses another one with a usage error naming the formats', () => {
    expect(() => parseCookieExportFormat('xml')).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringContaining('netscape, json, header') }),
    );
  });
});

describe('looksLikeCookieExport', () => {
  it.each([
    [formatNetscapeCookies([base]), true],
    ['# HTTP Cookie File\n', true],
    [formatCookiesJson([base]), true],
    ['[]\n', true],
    ['Cookie: a=1\n', true],
    ['Authorization: Bearer x\n', true],
    ['', true],
    ['#!/bin/sh\necho hi\n', false],
    ['export PATH=…\n', false],
    ['{"config": true}', false],
  ])('%j → %s', (text, expected) => {
    expect(looksLikeCookieExport(text)).toBe(expected);
  });
});

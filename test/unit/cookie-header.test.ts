import {
  MAX_COOKIE_HEADER_LENGTH,
  MAX_COOKIE_HEADER_PAIRS,
  formatCookieHeader,
  parseCookieHeader,
} from '../../src/protocol/cookie-header';
import type { BundleCookie } from '../../src/protocol/bundle-codec';

describe('parseCookieHeader', () => {
  const cases: Array<{ name: string; header: string | undefined; expected: BundleCookie[] }> = [
    { name: 'undefined', header: undefined, expected: [] },
    { name: 'empty', header: '', expected: [] },
    { name: 'one pair', header: 'a=1', expected: [{ name: 'a', value: '1' }] },
    {
      name: 'browser form, in order',
      header: '_oauth2_proxy=abc|123|sig=; theme=dark',
      expected: [
        { name: '_oauth2_proxy', value: 'abc|123|sig=' },
        { name: 'theme', value: 'dark' },
      ],
    },
    {
      name: 'duplicates kept in order',
      header: 'a=1; b=2; a=3',
      expected: [
        { name: 'a', value: '1' },
        { name: 'b', value: '2' },
        { name: 'a', value: '3' },
      ],
    },
    {
      name: 'extra whitespace and empty parts',
      header: '  a=1 ;;  ; b = 2;',
      expected: [
        { name: 'a', value: '1' },
        { name: 'b', value: '2' },
      ],
    },
    {
      name: 'value with = and a quoted value and an empty value',
      header: 'a=x=y==; q="quoted"; e=',
      expected: [
        { name: 'a', value: 'x=y==' },
        { name: 'q', value: '"quoted"' },
        { name: 'e', value: '' },
      ],
    },
    {
      name: 'malformed pairs skipped: no =, empty name, bad name, bad value',
      header: 'novalue; =x; a b=1; c=has space; d="unbalanced; e=ok; f=comma,value; g=back\\slash; h=1',
      expected: [
        { name: 'e', value: 'ok' },
        { name: 'h', value: '1' },
      ],
    },
    { name: 'control characters skipped', header: 'a=\u0001; b=2', expected: [{ name: 'b', value: '2' }] },
    { name: 'non-ASCII value skipped', header: 'a=é; b=2', expected: [{ name: 'b', value: '2' }] },
  ];

  it.each(cases)('$name', ({ header, expected }) => {
    expect(parseCookieHeader(header)).toEqual(expected);
  });

  it(`keeps at most ${MAX_COOKIE_HEADER_PAIRS} pairs`, () => {
    const header = Array.from({ length: MAX_COOKIE_HEADER_PAIRS + 50 }, (_, i) => `c${i}=${i}`).join('; ');
    const cookies = parseCookieHeader(header);
    expect(cookies).toHaveLength(MAX_COOKIE_HEADER_PAIRS);
    expect(cookies[0]).toEqual({ name: 'c0', value: '0' });
    expect(cookies.at(-1)).toEqual({
      name: `c${MAX_COOKIE_HEADER_PAIRS - 1}`,
      value: `${MAX_COOKIE_HEADER_PAIRS - 1}`,
    });
  });

  it('reads only the first 64 KiB and drops the pair the limit cuts', () => {
    const big = 'v'.repeat(1000);
    const header = Array.from({ length: 100 }, (_, i) => `c${i}=${big}`).join('; ');
    expect(header.length).toBeGreaterThan(MAX_COOKIE_HEADER_LENGTH);
    const cookies = parseCookieHeader(header);
    expect(cookies.length).toBeGreaterThan(50);
    expect(cookies.length).toBeLessThan(100);
    expect(cookies.every((cookie) => cookie.value === big)).toBe(true);
    expect(formatCookieHeader(cookies).length).toBeLessThanOrEqual(MAX_COOKIE_HEADER_LENGTH);
  });

  it('returns nothing for one pair longer than 64 KiB', () => {
    expect(parseCookieHeader(`a=${'x'.repeat(MAX_COOKIE_HEADER_LENGTH + 10)}`)).toEqual([]);
  });

  it('never throws on arbitrary input', () => {
    const inputs = ['=', ';', '==;==', '\u0000', 'a=1;'.repeat(10_000), '\ud800=1', 'a=\ud800'];
    for (const input of inputs) expect(Array.isArray(parseCookieHeader(input))).toBe(true);
  });
});

describe('formatCookieHeader', () => {
  it('joins pairs with "; " and round-trips through parseCookieHeader', () => {
    const cookies = [
      { name: 'a', value: '1' },
      { name: 'b', value: 'x=y' },
      { name: 'a', value: '2' },
    ];
    const header = formatCookieHeader(cookies);
    expect(header).toBe('a=1; b=x=y; a=2');
    expect(parseCookieHeader(header)).toEqual(cookies);
  });

  it('gives an empty string for no cookies', () => {
    expect(formatCookieHeader([])).toBe('');
  });
});

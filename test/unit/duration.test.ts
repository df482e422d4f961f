import { parseDurationMs } from '../../src/protocol/duration';

describe('parseDurationMs', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['3600s', 3_600_000],
    ['1s', 1000],
    [' 365d ', 365 * 86_400_000],
  ])('%s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each([
    '',
    '30',
    'd',
    '0d',
    '030d',
    '1.5h',
    '-1d',
    '1d12h',
    '30 d',
    '30D',
    '1w',
    '3600ms',
    '99999999999d',
    'Infinity s',
  ])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

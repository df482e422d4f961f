import { parseDuration } from '../../src/protocol/duration';

describe('parseDuration', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['3600s', 3_600_000],
    ['1s', 1000],
    [' 7d ', 7 * 86_400_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    'd',
    '30',
    '30 d',
    '30days',
    '1.5h',
    '-1d',
    '+1d',
    '0s',
    '0d',
    '1w',
    '1D',
    '1h30m',
    '9999999999d',
  ])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

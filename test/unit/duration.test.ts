/** The one duration parser (src/protocol/duration.ts): serve's --sa-max-lifetime, --sa-key-lifetime, the CLI's --expires. */
import { formatDuration, parseDuration } from '../../src/protocol/duration';

describe('parseDuration', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['3600s', 3_600_000],
    ['1s', 1000],
    ['365d', 365 * 86_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '30',
    'd',
    '0d',
    '-1d',
    '+1d',
    '1.5d',
    '30 d',
    ' 30d',
    '30D',
    '30w',
    '1d2h',
    '01d',
    '1234567890s',
  ])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [30 * 86_400_000, '30d'],
    [36 * 3_600_000, '36h'],
    [90 * 60_000, '90m'],
    [45_000, '45s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

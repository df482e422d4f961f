import { formatDurationWords, parseDurationMs } from '../../src/protocol/duration';

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

describe('formatDurationWords', () => {
  it.each([
    [300_000, '5 minutes'],
    [90_000, '90 seconds'],
    [7_200_000, '2 hours'],
    [60_000, '1 minute'],
    [1_000, '1 second'],
    [86_400_000, '1 day'],
    [5_400_000, '90 minutes'],
    [129_600_000, '36 hours'],
    [3_601_000, '3601 seconds'],
    [1_500, '1500 milliseconds'],
    [0, '0 milliseconds'],
  ])('%d ms: %s', (ms, words) => {
    expect(formatDurationWords(ms)).toBe(words);
  });

  it.each(['5m', '90s', '2h', '1d', '3601s'])('states %s exactly, as parseDurationMs reads it', (text) => {
    const ms = parseDurationMs(text) ?? Number.NaN;
    const [count, unit] = formatDurationWords(ms).split(' ');
    expect(`${count ?? ''}${unit?.[0] ?? ''}`).toBe(text);
  });
});

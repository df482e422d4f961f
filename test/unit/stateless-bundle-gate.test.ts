import type { CookieBundle } from '../../src/protocol/bundle-codec';
import { namedUser } from '../../src/protocol/named-user';
import { createStatelessBundleGate } from '../../src/login/stateless-bundle-gate';
import { recordingLogger, recordingProgress } from '../kit/in-process-login';

const ORIGIN = 'https://api.example.test';
const bundle = (user?: string): CookieBundle => ({
  format: 'skypilot-v1',
  cookies: [{ name: '_oauth2_proxy', value: 'SECRET-VALUE' }],
  ...(user === undefined ? {} : { user }),
});

function gate(interactive: boolean) {
  const logger = recordingLogger();
  const progress = recordingProgress();
  const taken: CookieBundle[] = [];
  const created = createStatelessBundleGate({ interactive, logger, progress, waitingText: 'Waiting' });
  void created.confirmed.then((b) => taken.push(b));
  return { gate: created, logger, progress, taken };
}

describe('createStatelessBundleGate', () => {
  test('not interactive: never asks, warns once per origin, takes nothing', async () => {
    const { gate: g, logger, taken } = gate(false);
    for (let i = 0; i < 5; i += 1) g.offer({ bundle: bundle('mallory'), origin: ORIGIN });
    g.offer({ bundle: bundle(), origin: 'http://other.example' });
    expect(g.asking).toBe(false);
    expect(g.answer('y')).toBe(false);
    const warnings = logger.lines.filter((line) => line.startsWith('warn: '));
    expect(warnings).toEqual([
      `warn: a bundle without state arrived from ${ORIGIN}; if this server's /token page is an older one, ` +
        'run again with --accept-stateless (or paste the bundle from the page here)',
      "warn: a bundle without state arrived from http://other.example; if this server's /token page is an " +
        'older one, run again with --accept-stateless (or paste the bundle from the page here)',
    ]);
    await Promise.resolve();
    expect(taken).toEqual([]);
  });

  test('interactive: one question (names and claim, never values), paused status line, "y" takes it', async () => {
    const { gate: g, logger, progress, taken } = gate(true);
    g.offer({ bundle: bundle('ceo@corp.example'), origin: ORIGIN });
    g.offer({ bundle: bundle('second'), origin: ORIGIN }); // while asking: not asked again
    expect(g.asking).toBe(true);
    expect(progress.lines).toEqual(['stop']);
    const questions = logger.lines.filter((line) => line.includes('Take it?'));
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain('claims to be: ceo@corp.example');
    expect(logger.lines.join('\n')).not.toContain('SECRET-VALUE');
    expect(logger.lines.join('\n')).not.toContain('second');
    expect(g.answer('cb1.looks-like-a-paste')).toBe(false); // a paste is not an answer
    expect(g.asking).toBe(true);
    expect(g.answer(' Y ')).toBe(true);
    expect(g.asking).toBe(false);
    await Promise.resolve();
    expect(taken.map((b) => b.user)).toEqual(['ceo@corp.example']);
  });

  test('interactive: "n" refuses, resumes the status line, and later ones are refused silently', async () => {
    const { gate: g, logger, progress, taken } = gate(true);
    g.offer({ bundle: bundle('x'), origin: ORIGIN });
    expect(g.answer('no')).toBe(true);
    expect(progress.lines).toEqual(['stop', 'start: Waiting']);
    g.offer({ bundle: bundle('y'), origin: ORIGIN });
    expect(g.asking).toBe(false);
    expect(logger.lines.filter((line) => line.includes('Take it?'))).toHaveLength(1);
    expect(logger.lines.filter((line) => line.startsWith('warn: '))).toEqual([]);
    expect(logger.lines.join('\n')).toMatch(/Refused; .*--accept-stateless/);
    await Promise.resolve();
    expect(taken).toEqual([]);
  });
});

describe('namedUser', () => {
  test.each<[unknown, string | undefined]>([
    ['alice@example.com', 'alice@example.com'],
    ['(null)', undefined],
    [' (null) ', undefined],
    ['', undefined],
    ['   ', undefined],
    [null, undefined],
    [undefined, undefined],
    [42, undefined],
  ])('%j → %j', (value, expected) => {
    expect(namedUser(value)).toBe(expected);
  });
});

import { scaled, timeScale } from '../../fixtures/real-components/budgets';

describe('time budgets (fixtures/real-components/budgets.ts)', () => {
  it('are unscaled by default', () => {
    expect(timeScale({})).toBe(1);
    expect(timeScale({ COOKIE_BRIDGE_TIME_SCALE: '' })).toBe(1);
    expect(scaled(30_000, {})).toBe(30_000);
  });

  it('are multiplied by COOKIE_BRIDGE_TIME_SCALE', () => {
    expect(timeScale({ COOKIE_BRIDGE_TIME_SCALE: '2' })).toBe(2);
    expect(scaled(30_000, { COOKIE_BRIDGE_TIME_SCALE: '1.5' })).toBe(45_000);
    expect(scaled(1_000, { COOKIE_BRIDGE_TIME_SCALE: '0.25' })).toBe(250);
  });

  it.each(['0', '-1', 'fast', 'Infinity'])(
    'refuse COOKIE_BRIDGE_TIME_SCALE=%s, saying what to set',
    (value) => {
      expect(() => timeScale({ COOKIE_BRIDGE_TIME_SCALE: value })).toThrow(
        /COOKIE_BRIDGE_TIME_SCALE must be a positive number/,
      );
    },
  );
});

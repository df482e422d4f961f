import { tuneV8ForCommand } from '../../src/cli/short-command-tuning';

describe('tuneV8ForCommand', () => {
  it.each(['info', 'login', 'logout', 'request', 'header', 'cookies', 'completion'])(
    '%s exits after a few requests: llhttp stays on the baseline compiler',
    (command) => {
      const set: string[] = [];
      expect(tuneV8ForCommand(command, (flags) => set.push(flags))).toBe(true);
      expect(set).toEqual(['--liftoff-only']);
    },
  );

  it.each(['proxy', 'exec', 'serve'])('%s runs until stopped: V8 keeps its default tiers', (command) => {
    const set: string[] = [];
    expect(tuneV8ForCommand(command, (flags) => set.push(flags))).toBe(false);
    expect(set).toEqual([]);
  });
});

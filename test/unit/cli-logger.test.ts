import { debugShown, silentLogger, type Logger } from '../../src/context';
import { createCliLogger } from '../../src/cli/cli-logger';

function capture(): { stderr: { write: (text: string) => boolean }; text: () => string } {
  const parts: string[] = [];
  return {
    stderr: {
      write: (text: string) => {
        parts.push(text);
        return true;
      },
    },
    text: () => parts.join(''),
  };
}

describe('createCliLogger', () => {
  it('shows debug lines, each prefixed, only with --debug, and says so through debugEnabled', () => {
    const on = capture();
    const withDebug = createCliLogger({ stderr: on.stderr, debug: true });
    withDebug.debug('one\ntwo');
    expect(on.text()).toBe('debug: one\ndebug: two\n');
    expect(debugShown(withDebug)).toBe(true);

    const off = capture();
    const without = createCliLogger({ stderr: off.stderr, debug: false });
    without.debug('hidden');
    without.info('shown');
    expect(off.text()).toBe('shown\n');
    expect(debugShown(without)).toBe(false);
  });

  it('quiet keeps warnings only', () => {
    const out = capture();
    const logger = createCliLogger({ stderr: out.stderr, debug: false, quiet: true });
    logger.info('progress');
    logger.warn('careful');
    expect(out.text()).toBe('warning: careful\n');
  });
});

describe('debugShown', () => {
  it('is false for the silent logger, and true for a logger that does not say (an SDK caller’s own)', () => {
    expect(debugShown(silentLogger)).toBe(false);
    const own: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };
    expect(debugShown(own)).toBe(true);
  });
});

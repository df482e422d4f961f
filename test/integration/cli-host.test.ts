/**
 * What the entry (src/cli/main.ts) hands the CLI (CliHost): the `open` loader (the core bundle may be compiled
 * with a code cache, where import() does not work on Node 20) and the hook that runs before V8's flags change.
 */
import { runInNewContext } from 'node:vm';
import { createCliContext } from '../../src/cli/cli-context';
import type { OpenFunction } from '../../src/login/browser-opener';

describe('CliHost', () => {
  const savedBrowser = process.env.BROWSER;
  afterEach(() => {
    if (savedBrowser === undefined) delete process.env.BROWSER;
    else process.env.BROWSER = savedBrowser;
  });

  it('openBrowser loads `open` through the host when $BROWSER is not set', async () => {
    delete process.env.BROWSER;
    const opened: string[] = [];
    const open: OpenFunction = (url) => {
      opened.push(url);
      return Promise.resolve(undefined);
    };
    let loads = 0;
    const ctx = createCliContext(
      {},
      {
        openPackage: () => {
          loads++;
          return Promise.resolve(open);
        },
      },
    );
    await ctx.openBrowser('http://127.0.0.1:9/token?local_port=1');
    expect(loads).toBe(1);
    expect(opened).toEqual(['http://127.0.0.1:9/token?local_port=1']);
  });

  it('setV8Flags runs the host hook first, then changes the flags', () => {
    const events: string[] = [];
    const ctx = createCliContext(
      {},
      {
        beforeV8FlagsChange: () =>
          events.push(`hook (gc exposed: ${String(runInNewContext('typeof gc') === 'function')})`),
      },
    );
    ctx.setV8Flags('--expose-gc');
    events.push(`after (gc exposed: ${String(runInNewContext('typeof gc') === 'function')})`);
    expect(events).toEqual(['hook (gc exposed: false)', 'after (gc exposed: true)']);
  });
});

import { parseHeaders } from '../../src/cli/commands/request-command';
import { UsageError } from '../../src/errors';

describe('parseHeaders (-H)', () => {
  it('lower-cases names, trims values and keeps repeated headers', () => {
    expect(parseHeaders(['Content-Type: application/json', 'X-A: 1', 'x-a:2 '])).toEqual({
      'content-type': 'application/json',
      'x-a': ['1', '2'],
    });
  });

  it('refuses a line without a name, and does not echo it (it may hold a secret)', () => {
    try {
      parseHeaders(['Authorization Bearer sekret-value']);
      throw new Error('expected a UsageError');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).not.toContain('sekret-value');
    }
  });
});

import { parseEndpoint, resolveEndpointUrl } from '../../src/protocol/endpoint';
import { UsageError } from '../../src/errors';

describe('parseEndpoint', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com', 'https://api.example.com'],
    ['https://API.example.com:443/prefix/', 'https://api.example.com/prefix', 'https://api.example.com'],
    ['http://127.0.0.1:8080/x?y=1#z', 'http://127.0.0.1:8080/x', 'http://127.0.0.1:8080'],
    ['api.example.com:8443', 'https://api.example.com:8443', 'https://api.example.com:8443'],
    ['  http://[::1]:3000  ', 'http://[::1]:3000', 'http://[::1]:3000'],
  ])('%s → %s', (input, url, origin) => {
    const parsed = parseEndpoint(input);
    expect(parsed.url).toBe(url);
    expect(parsed.origin).toBe(origin);
    expect(parsed.basic).toBeUndefined();
  });

  it('takes basic credentials out of the URL and decodes them', () => {
    const parsed = parseEndpoint('https://ci%40corp:p%3Ass@api.example.com/base');
    expect(parsed.url).toBe('https://api.example.com/base');
    expect(parsed.basic).toEqual({ username: 'ci@corp', password: 'p:ss' });
  });

  it.each(['', '   ', 'ftp://host', 'http://', 'https://exa mple.com'])(
    'refuses %j with a UsageError',
    (input) => {
      expect(() => parseEndpoint(input)).toThrow(UsageError);
    },
  );

  it('never echoes the password of an invalid URL', () => {
    try {
      parseEndpoint('http://user:hunter2secret@exa mple.com');
      throw new Error('expected a UsageError');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).not.toContain('hunter2secret');
    }
  });
});

describe('resolveEndpointUrl', () => {
  it.each([
    ['https://api.example.com', '/api/items', 'https://api.example.com/api/items'],
    ['https://api.example.com', 'api/items?x=1', 'https://api.example.com/api/items?x=1'],
    ['https://api.example.com/base', '/api/items', 'https://api.example.com/base/api/items'],
    ['https://api.example.com', 'https://api.example.com/z', 'https://api.example.com/z'],
  ])('%s + %s', (endpoint, pathOrUrl, expected) => {
    expect(resolveEndpointUrl(endpoint, pathOrUrl).toString()).toBe(expected);
  });

  it('refuses a URL on another origin, so credentials never leave the endpoint', () => {
    expect(() => resolveEndpointUrl('https://api.example.com', 'https://evil.example.net/x')).toThrow(
      UsageError,
    );
    expect(() => resolveEndpointUrl('https://api.example.com', 'http://api.example.com/x')).toThrow(
      UsageError,
    );
  });
});

/**
 * Which proxy a request takes, with curl's rules (curl(1) ENVIRONMENT, CURLOPT_NOPROXY, lib/url.c, lib/noproxy.c).
 * The e2e proof through a real tinyproxy is test/e2e/forward-proxy.test.ts.
 */
import { ProxyError } from '../../src/errors';
import {
  describeRoute,
  ignoredProxyVariables,
  matchesNoProxy,
  parseProxyUrl,
  proxyFailure,
  resolveProxy,
  type ProxyEnv,
  type ProxyRoute,
} from '../../src/http/proxy-settings';

describe('matchesNoProxy', () => {
  it.each([
    // curl's own examples (CURLOPT_NOPROXY): "ample.com" matches ample.com, ample.com:80 and www.ample.com …
    ['ample.com', 'http://ample.com/', true],
    ['ample.com', 'http://ample.com:80/', true],
    ['ample.com', 'https://www.ample.com/', true],
    // … but not www.example.com or ample.com.org
    ['ample.com', 'http://www.example.com/', false],
    ['ample.com', 'http://ample.com.org/', false],
    // a leading dot is ignored: .example.com matches the domain itself too
    ['.example.com', 'http://example.com/', true],
    ['.example.com', 'http://api.example.com/', true],
    ['example.com', 'http://notexample.com/', false],
    // * alone matches everything; inside a name it is no wildcard
    ['*', 'https://anything.example/', true],
    ['*.example.com', 'https://www.example.com/', false],
    // case, trailing dots, blanks and empty entries
    ['EXAMPLE.com', 'http://Api.Example.COM/', true],
    ['example.com.', 'http://example.com/', true],
    ['example.com', 'http://example.com./', true],
    [' a.test , ,example.com ', 'http://example.com/', true],
    ['a.test b.test', 'http://b.test/', true],
    ['', 'http://example.com/', false],
    // nothing implicit: localhost and 127.0.0.1 are different entries, and neither is bypassed unless listed
    ['localhost', 'http://127.0.0.1:8080/', false],
    ['127.0.0.1', 'http://localhost:8080/', false],
    ['example.com', 'http://127.0.0.1/', false],
    ['127.0.0.1', 'http://127.0.0.1:8080/', true],
    // CIDR (curl ≥ 7.86), IPv6 without brackets
    ['192.168.0.0/16', 'http://192.168.4.2/', true],
    ['192.168.0.0/16', 'http://192.169.0.1/', false],
    ['127.0.0.0/8', 'https://127.9.9.9:8443/', true],
    ['::1', 'http://[::1]:8080/', true],
    ['fd00::/8', 'https://[fd12:3456::1]/', true],
    ['fd00::/8', 'https://[fe80::1]/', false],
    ['::1', 'http://127.0.0.1/', false],
    // host:port (an addition: curl never matches such an entry) matches that port only
    ['example.com:8443', 'https://example.com:8443/', true],
    ['example.com:8443', 'https://example.com/', false],
    ['example.com:443', 'https://example.com/', true],
    ['127.0.0.1:9000', 'http://127.0.0.1:9000/', true],
    ['127.0.0.1:9000', 'http://127.0.0.1:9001/', false],
    ['[::1]:9000', 'http://[::1]:9000/', true],
    ['[::1]:9000', 'http://[::1]:9001/', false],
  ])('NO_PROXY=%j for %s: %s', (noProxy, url, expected) => {
    expect(matchesNoProxy(new URL(url), noProxy)).toBe(expected);
  });
});

describe('resolveProxy', () => {
  const routeOf = (url: string, env: ProxyEnv): string => describeRoute(resolveProxy(new URL(url), env));

  it.each<[string, string, ProxyEnv, string]>([
    ['no variable: direct', 'https://api.test/', {}, 'direct'],
    [
      'https_proxy for https://',
      'https://api.test/',
      { https_proxy: 'http://p:3128' },
      'via proxy http://p:3128 (https_proxy)',
    ],
    [
      'HTTPS_PROXY for https://',
      'https://api.test/',
      { HTTPS_PROXY: 'http://p:3128' },
      'via proxy http://p:3128 (HTTPS_PROXY)',
    ],
    [
      'lower case wins',
      'https://api.test/',
      { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' },
      'via proxy http://lower:2 (https_proxy)',
    ],
    [
      'http_proxy for http://',
      'http://api.test/',
      { http_proxy: 'http://p:3128' },
      'via proxy http://p:3128 (http_proxy)',
    ],
    [
      'upper-case HTTP_PROXY for http://',
      'http://api.test/',
      { HTTP_PROXY: 'http://p:3128' },
      'via proxy http://p:3128 (HTTP_PROXY)',
    ],
    [
      'lower-case http_proxy wins over HTTP_PROXY',
      'http://api.test/',
      { HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:2' },
      'via proxy http://lower:2 (http_proxy)',
    ],
    [
      'HTTP_PROXY is ignored inside a CGI request (httpoxy)',
      'http://api.test/',
      { HTTP_PROXY: 'http://p:3128', REQUEST_METHOD: 'GET' },
      'direct',
    ],
    ['http_proxy is not for https://', 'https://api.test/', { http_proxy: 'http://p:3128' }, 'direct'],
    ['https_proxy is not for http://', 'http://api.test/', { https_proxy: 'http://p:3128' }, 'direct'],
    [
      'all_proxy as the fallback',
      'http://api.test/',
      { all_proxy: 'http://all:1' },
      'via proxy http://all:1 (all_proxy)',
    ],
    [
      'ALL_PROXY as the fallback',
      'https://api.test/',
      { ALL_PROXY: 'http://all:1' },
      'via proxy http://all:1 (ALL_PROXY)',
    ],
    [
      'the scheme variable before all_proxy',
      'https://api.test/',
      { all_proxy: 'http://all:1', HTTPS_PROXY: 'http://own:2' },
      'via proxy http://own:2 (HTTPS_PROXY)',
    ],
    [
      'an empty variable counts as unset',
      'https://api.test/',
      { https_proxy: '', HTTPS_PROXY: 'http://p:3' },
      'via proxy http://p:3 (HTTPS_PROXY)',
    ],
    [
      'NO_PROXY bypasses',
      'https://api.test/',
      { HTTPS_PROXY: 'http://p:3', NO_PROXY: 'api.test' },
      'direct (NO_PROXY)',
    ],
    [
      'no_proxy wins over NO_PROXY',
      'https://api.test/',
      { HTTPS_PROXY: 'http://p:3', no_proxy: 'other.test', NO_PROXY: '*' },
      'via proxy http://p:3 (HTTPS_PROXY)',
    ],
    [
      'an empty no_proxy leaves NO_PROXY',
      'https://api.test/',
      { HTTPS_PROXY: 'http://p:3', no_proxy: '', NO_PROXY: '*' },
      'direct (NO_PROXY)',
    ],
    [
      'ws:// takes http_proxy',
      'ws://api.test/',
      { http_proxy: 'http://p:3' },
      'via proxy http://p:3 (http_proxy)',
    ],
  ])('%s', (_name, url, env, expected) => {
    expect(routeOf(url, env)).toBe(expected);
  });

  it('sends credentials to the dispatcher but never shows them', () => {
    const route = resolveProxy(new URL('https://api.test/'), { HTTPS_PROXY: 'http://alice:s%40cret@p:3128' });
    expect(route).toMatchObject({ kind: 'proxy', label: 'http://p:3128' });
    const { url } = route as Extract<ProxyRoute, { kind: 'proxy' }>;
    expect([url.username, url.password]).toEqual(['alice', 's%40cret']);
    expect(describeRoute(route)).not.toContain('alice');
  });

  it('says HTTP_PROXY is ignored only inside a CGI request and when http_proxy is not set', () => {
    expect(ignoredProxyVariables({ HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' })).toEqual([
      'HTTP_PROXY',
    ]);
    expect(ignoredProxyVariables({ HTTP_PROXY: 'http://p:1' })).toEqual([]);
    expect(
      ignoredProxyVariables({ HTTP_PROXY: 'http://p:1', http_proxy: 'http://p:1', REQUEST_METHOD: 'GET' }),
    ).toEqual([]);
    expect(ignoredProxyVariables({})).toEqual([]);
  });
});

describe('parseProxyUrl', () => {
  it.each([
    // curl: no scheme means http://; no port means 1080 (443 for an https:// proxy)
    ['proxy.corp:3128', 'http://proxy.corp:3128/'],
    ['proxy.corp', 'http://proxy.corp:1080/'],
    ['http://proxy.corp', 'http://proxy.corp:1080/'],
    ['https://proxy.corp', 'https://proxy.corp/'],
    ['http://proxy.corp:80', 'http://proxy.corp/'],
    ['http://u:p@proxy.corp:8080/ignored/path', 'http://u:p@proxy.corp:8080/ignored/path'],
    ['http://[::1]', 'http://[::1]:1080/'],
    ['HTTP://Proxy.Corp:3128', 'http://proxy.corp:3128/'],
  ])('%s → %s', (value, href) => {
    expect(parseProxyUrl(value, 'HTTPS_PROXY').href).toBe(href);
  });

  it.each([
    ['socks5://alice:s3cret@proxy:1080', /socks5:\/\/ proxies are not supported/],
    ['http://alice:s3cret@', /names no proxy host|is not a proxy URL/],
    ['http://alice:s3cret@bad host:1', /is not a proxy URL/],
    ['socks5://alice:s3cret/x@proxy', /^HTTPS_PROXY=socks5:\/\/\*\*\*@proxy: /],
    ['alice:s3cret?@@proxy:1/', /is not a proxy URL|names no proxy host/],
  ])('%s is E_PROXY_INVALID without the password', (value, message) => {
    let thrown: unknown;
    try {
      parseProxyUrl(value, 'HTTPS_PROXY');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProxyError);
    const error = thrown as ProxyError;
    expect(error.code).toBe('E_PROXY_INVALID');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
    expect(`${error.message} ${error.proxy} ${error.hint ?? ''}`).not.toContain('s3cret');
  });
});

describe('proxyFailure', () => {
  const route = resolveProxy(new URL('https://api.test/'), { HTTPS_PROXY: 'http://alice:s3cret@p:3128' });
  const target = new URL('https://api.test:8443/x');
  const errno = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])(
    '%s through a proxy: E_PROXY_UNREACHABLE naming the proxy',
    (code) => {
      const error = proxyFailure(route, target, errno(code));
      expect(error?.code).toBe('E_PROXY_UNREACHABLE');
      expect(error?.exitCode).toBe(5);
      expect(error?.message).toContain('through the proxy http://p:3128 (HTTPS_PROXY)');
      expect(error?.message).not.toContain('s3cret');
    },
  );

  it('a refused CONNECT: E_PROXY_REFUSED with the status and the CONNECT target', () => {
    const error = proxyFailure(route, target, new Error('Proxy response (403) !== 200 when HTTP Tunneling'));
    expect(error?.code).toBe('E_PROXY_REFUSED');
    expect(error?.message).toBe(
      'the proxy http://p:3128 (HTTPS_PROXY) answered 403 to CONNECT api.test:8443',
    );
    expect(error?.hint).toMatch(/NO_PROXY/);
  });

  it('407: the hint says how to give credentials', () => {
    for (const message of [
      'Proxy response (407) !== 200 when HTTP Tunneling',
      'Proxy Authentication Required (407)',
    ]) {
      const error = proxyFailure(route, target, new Error(message));
      expect(error?.message).toContain('answered 407');
      expect(error?.hint).toMatch(/USER:PASSWORD@/);
    }
  });

  it("leaves the origin's own failures (TLS, time-outs) and direct requests alone", () => {
    expect(proxyFailure(route, target, errno('CERT_HAS_EXPIRED'))).toBeUndefined();
    expect(proxyFailure(route, target, errno('UND_ERR_HEADERS_TIMEOUT'))).toBeUndefined();
    expect(proxyFailure({ kind: 'direct' }, target, errno('ECONNREFUSED'))).toBeUndefined();
  });
});

/**
 * The proxy recipes in README.md and docs/serve.md are the ones the real-proxy suites run (the kit's nginx and
 * Apache launchers render them), and the oauth2-proxy routes they give (which cannot run here: no binary) let
 * through none of the path-confusion spellings, in any of the ways oauth2-proxy versions read a path.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { RELAY_CLAIM_PATH, RELAY_INFO_PATH, RELAY_REGISTER_PATH } from '../../src/protocol/relay-protocol';
import { isRelayPath } from '../../src/server/relay-public-routes';
import { canonicalPath, decodePathOnce } from '../../src/protocol/request-path';
import { renderApacheConfig, renderNginxConfig } from '../kit/real-components';
import { PATH_CONFUSION_ATTACKS, PLAIN_PATHS, RELAY_SPELLINGS } from '../kit/path-confusion-cases';

const ROOT = path.join(__dirname, '..', '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const SERVE_DOC = readFileSync(path.join(ROOT, 'docs', 'serve.md'), 'utf8');
const RECIPE_UPSTREAM = 'http://127.0.0.1:8080';

/** The fenced code blocks of a Markdown text in a given language. */
function codeBlocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map(
    (m) => m[1] ?? '',
  );
}

/** The directive lines of the block that starts with `opening` (up to its closing line), trimmed, no comments. */
function blockLines(config: string, opening: string, closing: string): string[] {
  const lines = config.split('\n').map((line) => line.trim());
  const start = lines.indexOf(opening);
  if (start === -1) return [];
  const end = lines.indexOf(closing, start);
  return lines.slice(start, end + 1).filter((line) => line !== '' && !line.startsWith('#'));
}

const NGINX_RELAY_OPENING = 'location ^~ /cookie-bridge/relay/ {';
const APACHE_RELAY_OPENING = '<Location "/cookie-bridge/relay/">';

describe('the nginx recipe', () => {
  const rendered = renderNginxConfig(
    {
      oauth2ProxyUrl: 'http://127.0.0.1:4180',
      upstream: RECIPE_UPSTREAM,
      exemptPaths: ['/cookie-bridge/relay/'],
    },
    80,
    '/srv/nginx',
    undefined,
  );
  const kitBlock = blockLines(rendered, NGINX_RELAY_OPENING, '}');

  it.each([
    ['README.md', README],
    ['docs/serve.md', SERVE_DOC],
  ])(
    'in %s is what the suite runs: a proxy_pass with a URI part, the identity header dropped',
    (_name, doc) => {
      const docBlocks = codeBlocks(doc, 'nginx').map((block) => blockLines(block, NGINX_RELAY_OPENING, '}'));
      const docBlock = docBlocks.find((lines) => lines.length > 0) ?? [];
      expect(docBlock).toEqual(
        expect.arrayContaining([
          `proxy_pass ${RECIPE_UPSTREAM}/cookie-bridge/relay/;`,
          'proxy_set_header X-Auth-Request-Email "";',
        ]),
      );
      for (const line of docBlock) expect(kitBlock).toContain(line);
      // No location in the docs lets the prefix through with a raw-forwarding proxy_pass or a plain prefix match.
      expect(doc).not.toMatch(/location \/cookie-bridge\/relay\//);
    },
  );
});

describe('the Apache recipe', () => {
  const rendered = renderApacheConfig(
    {
      issuer: 'http://127.0.0.1:9000',
      clientId: 'client',
      clientSecret: 'secret',
      upstream: RECIPE_UPSTREAM,
      exemptPaths: ['/cookie-bridge/relay/'],
    },
    80,
    '/srv/apache',
    undefined,
  );
  const kitBlock = blockLines(rendered, APACHE_RELAY_OPENING, '</Location>');

  it.each([
    ['README.md', README],
    ['docs/serve.md', SERVE_DOC],
  ])('in %s is what the suite runs: the exemption unsets the identity header', (_name, doc) => {
    const block = codeBlocks(doc, 'apache').find((text) => text.includes(APACHE_RELAY_OPENING)) ?? '';
    const docBlock = blockLines(block, APACHE_RELAY_OPENING, '</Location>');
    expect(docBlock).toContain('RequestHeader unset X-Auth-Request-Email');
    expect(docBlock).toEqual(kitBlock);
    expect(block).toContain('RequestHeader unset X-Auth-Request-Email early');
    expect(rendered).toContain('RequestHeader unset X-Auth-Request-Email early');
    expect(block).not.toMatch(/nocanon|AllowEncodedSlashes On/);
  });
});

/** `--skip-auth-route` values as `{ method, regex }`, from `--skip-auth-route='…'` or `--skip-auth-route=…`. */
function skipAuthRoutes(text: string): Array<{ method: string | undefined; source: string; regex: RegExp }> {
  return [...text.matchAll(/--skip-auth-route='?([^'\s]+)'?/g)].map((m) => {
    const value = m[1] ?? '';
    const method = /^([A-Z]+)=/.exec(value)?.[1];
    const source = method === undefined ? value : value.slice(method.length + 1);
    return { method, source, regex: new RegExp(source) };
  });
}

/**
 * The strings oauth2-proxy versions match `--skip-auth-route` against: the raw request URI with its query
 * (before v7.11), the raw path, and Go's url.Parse path (percent-decoded, dot segments NOT resolved).
 */
function oauth2ProxyViews(target: string): string[] {
  const rawPath = target.split('?')[0] ?? target;
  return [target, rawPath, decodePathOnce(rawPath)];
}

describe('the oauth2-proxy routes', () => {
  const readmeBlock = codeBlocks(README, 'sh').find((block) => block.includes('--skip-auth-route')) ?? '';
  const docBlock = codeBlocks(SERVE_DOC, 'sh').find((block) => block.includes('--skip-auth-route')) ?? '';
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[] }>;
  };
  // Compose reads `$$` as a literal `$`.
  const composeRoutes = (compose.services['oauth2-proxy']?.command ?? [])
    .filter((arg) => arg.includes('/cookie-bridge/relay/'))
    .join('\n')
    .replace(/\$\$/g, '$');
  const routes = skipAuthRoutes(readmeBlock);
  const skipped = (method: string, target: string): boolean =>
    routes.some(
      (route) =>
        (route.method === undefined || route.method === method) &&
        oauth2ProxyViews(target).some((view) => route.regex.test(view)),
    );

  it('are the same in README.md, docs/serve.md and docker-compose.yml', () => {
    const show = (list: ReturnType<typeof skipAuthRoutes>) => list.map((r) => `${r.method}=${r.source}`);
    expect(show(routes)).toEqual([
      'GET=^/cookie-bridge/relay/info$',
      'POST=^/cookie-bridge/relay/register$',
      'POST=^/cookie-bridge/relay/claim$',
    ]);
    expect(show(skipAuthRoutes(docBlock))).toEqual(show(routes));
    expect(show(skipAuthRoutes(composeRoutes))).toEqual(show(routes));
  });

  it('let the three relay routes through', () => {
    expect(skipped('GET', RELAY_INFO_PATH)).toBe(true);
    expect(skipped('POST', RELAY_REGISTER_PATH)).toBe(true);
    expect(skipped('POST', RELAY_CLAIM_PATH)).toBe(true);
    expect(skipped('POST', RELAY_INFO_PATH)).toBe(false);
    expect(skipped('GET', '/token')).toBe(false);
  });

  it.each(PATH_CONFUSION_ATTACKS.map((c) => [c.name, c.path]))(
    'let no attack spelling through: %s (%s)',
    (_name, target) => {
      for (const method of ['GET', 'POST']) expect(skipped(method, target)).toBe(false);
    },
  );

  it('let through only what is exactly a relay route, which serve answers itself', () => {
    for (const { path: target } of [...PATH_CONFUSION_ATTACKS, ...RELAY_SPELLINGS, ...PLAIN_PATHS]) {
      for (const method of ['GET', 'POST']) {
        if (!skipped(method, target)) continue;
        const rawPath = target.split('?')[0] ?? target;
        expect([RELAY_INFO_PATH, RELAY_REGISTER_PATH, RELAY_CLAIM_PATH]).toContain(canonicalPath(rawPath));
        expect(isRelayPath(rawPath)).toBe(true);
      }
    }
  });

  it('(why exact routes: the loose prefix regex would let traversal through)', () => {
    expect(/^\/cookie-bridge\/relay\//.test('/cookie-bridge/relay/../../graphql')).toBe(true);
  });
});

/** The statements of a config text: trimmed, no comments, one `a; b;` line split in two. */
function statements(config: string): string[] {
  return config
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => line.split(/(?<=;)\s+/));
}

describe('the service-account recipes in README.md (serve --service-accounts behind the proxy)', () => {
  const ISSUER = 'https://api.example.com/cookie-bridge/sa';

  it('Apache: the bearer lines and the issuer exemption are what the suite runs', () => {
    const rendered = statements(
      renderApacheConfig(
        {
          issuer: 'http://127.0.0.1:9000',
          clientId: 'client',
          clientSecret: 'secret',
          upstream: RECIPE_UPSTREAM,
          exemptPaths: ['/cookie-bridge/relay/', '/cookie-bridge/sa/'],
          bearerJwksUri: `${ISSUER}/jwks`,
        },
        80,
        '/srv/apache',
        undefined,
      ),
    );
    const block = codeBlocks(README, 'apache').find((text) => text.includes('OIDCOAuthVerifyJwksUri')) ?? '';
    const lines = statements(block);
    expect(lines).toEqual(
      expect.arrayContaining([
        'AuthType auth-openidc',
        `OIDCOAuthVerifyJwksUri ${ISSUER}/jwks`,
        '<Location "/cookie-bridge/sa/">',
      ]),
    );
    for (const line of lines) expect(rendered).toContain(line);
  });

  it('nginx: the maps and locations that send Bearer requests to serve are what the suite runs', () => {
    const rendered = statements(
      renderNginxConfig(
        {
          oauth2ProxyUrl: 'http://127.0.0.1:4180',
          upstream: RECIPE_UPSTREAM,
          bearerCheckUrl: RECIPE_UPSTREAM,
        },
        80,
        '/srv/nginx',
        undefined,
      ),
    );
    const block = codeBlocks(README, 'nginx').find((text) => text.includes('$auth_backend')) ?? '';
    const lines = statements(block);
    expect(lines).toEqual(
      expect.arrayContaining([
        `"~*^Bearer " ${RECIPE_UPSTREAM}/cookie-bridge/auth/check;`,
        'proxy_pass $auth_backend;',
        'error_page 401 = $auth_refused;',
      ]),
    );
    for (const line of lines) expect(rendered).toContain(line);
  });

  describe('oauth2-proxy', () => {
    const block = codeBlocks(README, 'sh').find((text) => text.includes('--extra-jwt-issuers')) ?? '';
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { command?: string[] }>;
    };
    const composeArgs = (compose.services['oauth2-proxy']?.command ?? [])
      .filter((arg) => arg.includes('/cookie-bridge/sa/'))
      .join('\n')
      .replace(/\$\$/g, '$');
    const routes = skipAuthRoutes(block);
    const served = ['/.well-known/openid-configuration', '/.well-known/jwks.json', '/jwks'].map(
      (route) => `/cookie-bridge/sa${route}`,
    );
    const skipped = (target: string): boolean =>
      routes.some(
        (route) => route.method === 'GET' && oauth2ProxyViews(target).some((v) => route.regex.test(v)),
      );

    it('are the routes docker-compose.yml gives, with the flags that make oauth2-proxy check tokens', () => {
      const show = (list: ReturnType<typeof skipAuthRoutes>) => list.map((r) => `${r.method}=${r.source}`);
      expect(show(routes)).toEqual(show(skipAuthRoutes(composeArgs)));
      expect(routes).toHaveLength(served.length);
      expect(block).toContain('--skip-jwt-bearer-tokens=true');
      expect(block).toContain(`--extra-jwt-issuers=${ISSUER}=cookie-bridge`);
    });

    it('let through exactly the issuer routes serve answers, and no attack spelling', () => {
      for (const route of served) expect(skipped(route)).toBe(true);
      expect(skipped('/cookie-bridge/sa/jwks/../../../graphql')).toBe(false);
      expect(skipped('/cookie-bridge/sa/.well-known/openid-configurationX')).toBe(false);
      for (const attack of PATH_CONFUSION_ATTACKS) expect(skipped(attack.path)).toBe(false);
    });
  });
});

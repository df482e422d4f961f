/**
 * Docker cannot run here, so docker-compose.yml is checked on paper against the code: service names, the
 * chain of upstreams and ports, the serve flags the CLI really has, the relay exemption, the proxy secret
 * shared by oauth2-proxy and serve, and the OpenID client shared by oauth2-proxy (its alpha config,
 * deploy/oauth2-proxy.yaml) and dex.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { RELAY_PREFIX } from '../../src/protocol/relay-protocol';

const ROOT = path.join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  depends_on?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};
/** deploy/oauth2-proxy.yaml: oauth2-proxy's alpha config (v7.7 field names). */
const alpha = parse(readFileSync(path.join(ROOT, 'deploy', 'oauth2-proxy.yaml'), 'utf8')) as {
  server: { BindAddress: string };
  upstreamConfig: { upstreams: Array<{ id: string; path: string; uri: string }> };
  injectRequestHeaders: Array<{ name: string; values: Array<{ claim?: string; fromEnv?: string }> }>;
  providers: Array<{
    id: string;
    provider: string;
    clientID: string;
    clientSecret: string;
    loginURL: string;
    redeemURL: string;
    oidcConfig: { issuerURL: string; jwksURL: string; skipDiscovery: boolean };
  }>;
};
const dex = parse(readFileSync(path.join(ROOT, 'deploy', 'dex.yaml'), 'utf8')) as {
  issuer: string;
  web: { http: string };
  staticClients: Array<{ id: string; secret: string; redirectURIs: string[] }>;
  staticPasswords: Array<{ email: string; hash: string }>;
};

function flags(service: ComposeService): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of flagList(service)) out.set(name, value);
  return out;
}

/** Every `--name=value` of a service's command, repeated flags included; compose's `$$` read as `$`. */
function flagList(service: ComposeService): Array<[string, string]> {
  return (service.command ?? []).flatMap((arg) => {
    const match = arg.match(/^(--[a-z-]+)=(.*)$/);
    return match ? [[match[1]!, match[2]!.replace(/\$\$/g, '$')] as [string, string]] : [];
  });
}

/** The options `cookie-bridge serve` accepts, read from the CLI's own definition. */
function serveOptionFlags(): string[] {
  const source = readFileSync(path.join(ROOT, 'src', 'cli', 'run-cli.ts'), 'utf8');
  const block = source.slice(source.indexOf(".command('serve')"));
  const end = block.indexOf('.action(');
  return [...block.slice(0, end).matchAll(/--([a-z-]+)/g)].map((m) => `--${m[1]!}`);
}

describe('docker-compose.yml', () => {
  const services = compose.services;
  const proxy = services['oauth2-proxy']!;
  const serve = services.serve!;
  const app = services.app!;

  it('has the four services: dex → oauth2-proxy → serve → app', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'dex', 'oauth2-proxy', 'serve']);
    expect(proxy.image).toMatch(/^quay\.io\/oauth2-proxy\/oauth2-proxy:v\d+\.\d+\.\d+$/);
    expect(services.dex!.image).toMatch(/^ghcr\.io\/dexidp\/dex:v\d+/);
    expect(serve.build).toBe('.');
    expect(app.build).toBe('.');
  });

  it('chains the upstreams on the ports each service listens on', () => {
    const serveFlags = flags(serve);
    expect(serve.command?.[0]).toBe('serve');
    expect(alpha.upstreamConfig.upstreams).toEqual([
      { id: 'serve', path: '/', uri: `http://serve:${serveFlags.get('--port')}` },
    ]);
    expect(serve.expose).toContain(serveFlags.get('--port'));
    expect(serveFlags.get('--upstream')).toBe(`http://app:${app.environment?.PORT}`);
    expect(app.expose).toContain(app.environment?.PORT);
    // inside a container the listeners must not be loopback-only
    expect(serveFlags.get('--host')).toBe('0.0.0.0');
    expect(app.environment?.HOST).toBe('0.0.0.0');
    expect(alpha.server.BindAddress).toBe('0.0.0.0:4180');
    expect(flags(proxy).get('--alpha-config')).toBe('/etc/oauth2-proxy/alpha.yaml');
    expect(proxy.volumes).toContain('./deploy/oauth2-proxy.yaml:/etc/oauth2-proxy/alpha.yaml:ro');
    expect(proxy.ports).toContain('127.0.0.1:4180:4180');
  });

  it('uses only flags that `cookie-bridge serve` defines', () => {
    const known = serveOptionFlags();
    for (const name of flags(serve).keys()) expect(known).toContain(name);
    expect(known).toEqual(expect.arrayContaining(['--upstream', '--port', '--host', '--identity-header']));
  });

  it('uses no oauth2-proxy flag that --alpha-config removes (it would refuse to start)', () => {
    const removed = [
      '--upstream',
      '--pass-user-headers',
      '--set-xauthrequest',
      '--http-address',
      '--provider',
      '--client-id',
      '--client-secret',
      '--login-url',
      '--redeem-url',
    ];
    for (const [name] of flagList(proxy)) {
      expect(removed).not.toContain(name);
      expect(name).not.toMatch(/oidc/);
    }
  });

  it('passes the identity header that serve and the app read', () => {
    const email = alpha.injectRequestHeaders.find((header) => header.name === 'X-Forwarded-Email');
    expect(email?.values).toEqual([{ claim: 'email' }]);
    expect(flags(serve).get('--identity-header')).toBe('X-Forwarded-Email');
    expect(app.environment?.IDENTITY_HEADER).toBe('X-Forwarded-Email');
  });

  it("exempts exactly cookie-bridge's three relay routes from the proxy", () => {
    const routes = flagList(proxy)
      .filter(([name]) => name === '--skip-auth-route')
      .map(([, value]) => value);
    expect(routes).toEqual([
      `GET=^${RELAY_PREFIX}info$`,
      `POST=^${RELAY_PREFIX}register$`,
      `POST=^${RELAY_PREFIX}claim$`,
    ]);
    // (test/unit/proxy-recipes.test.ts checks these against the path-confusion spellings.)
  });

  it('sends serve the proxy secret, which serve alone trusts (it listens on 0.0.0.0)', () => {
    const secret = alpha.injectRequestHeaders.find(
      (header) => header.name === 'X-Cookie-Bridge-Proxy-Secret',
    );
    expect(secret?.values).toEqual([{ fromEnv: 'COOKIE_BRIDGE_PROXY_SECRET' }]);
    const value = proxy.environment?.COOKIE_BRIDGE_PROXY_SECRET ?? '';
    expect(value.length).toBeGreaterThanOrEqual(16);
    expect(serve.environment?.COOKIE_BRIDGE_PROXY_SECRET).toBe(value);
    expect(flags(serve).get('--trusted-proxy')).toBe('none');
    // The secret is never on serve's command line.
    expect((serve.command ?? []).join(' ')).not.toContain(value);
  });

  it('agrees with dex on the client, its secret, the issuer and the callback', () => {
    const proxyFlags = flags(proxy);
    expect(alpha.providers).toHaveLength(1);
    const provider = alpha.providers[0]!;
    expect(provider.provider).toBe('oidc');
    const client = dex.staticClients.find((c) => c.id === provider.clientID);
    expect(client).toBeDefined();
    expect(client!.secret).toBe(provider.clientSecret);
    expect(client!.redirectURIs).toContain(proxyFlags.get('--redirect-url'));
    expect(provider.oidcConfig.issuerURL).toBe(dex.issuer);
    expect(provider.oidcConfig.skipDiscovery).toBe(true);
    expect(provider.loginURL).toBe(`${dex.issuer}/auth`);
    expect(provider.redeemURL).toBe(`${dex.issuer.replace('localhost', 'dex')}/token`);
    expect(provider.oidcConfig.jwksURL).toBe(`${dex.issuer.replace('localhost', 'dex')}/keys`);
    expect(dex.web.http).toBe('0.0.0.0:5556');
    expect(services.dex!.ports).toContain('127.0.0.1:5556:5556');
    expect(dex.staticPasswords[0]?.hash).toMatch(/^\$2[aby]\$10\$/);
  });

  it('has a cookie secret of a length oauth2-proxy accepts', () => {
    expect([16, 24, 32]).toContain(flags(proxy).get('--cookie-secret')!.length);
  });

  it('builds an image whose entrypoint is the CLI the package.json bin points at', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const bin = pkg.bin['cookie-bridge']!.replace(/^\.\//, '');
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${bin}"]`);
    expect(app.entrypoint).toEqual(['node', 'dist/fixtures/demo-api.js']);
  });
});

/**
 * Docker cannot run here, so docker-compose.yml is checked on paper against the code: service names, the
 * chain of upstreams and ports, the serve flags the CLI really has, the relay exemption, and the OpenID
 * client shared by oauth2-proxy and dex.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { RELAY_PREFIX } from '../../src/core/relay-protocol';

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
const dex = parse(readFileSync(path.join(ROOT, 'deploy', 'dex.yaml'), 'utf8')) as {
  issuer: string;
  web: { http: string };
  staticClients: Array<{ id: string; secret: string; redirectURIs: string[] }>;
  staticPasswords: Array<{ email: string; hash: string }>;
};

function flags(service: ComposeService): Map<string, string> {
  const out = new Map<string, string>();
  for (const arg of service.command ?? []) {
    const match = arg.match(/^(--[a-z-]+)=(.*)$/);
    if (match) out.set(match[1]!, match[2]!);
  }
  return out;
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
    const proxyFlags = flags(proxy);
    const serveFlags = flags(serve);
    expect(serve.command?.[0]).toBe('serve');
    expect(proxyFlags.get('--upstream')).toBe(`http://serve:${serveFlags.get('--port')}`);
    expect(serve.expose).toContain(serveFlags.get('--port'));
    expect(serveFlags.get('--upstream')).toBe(`http://app:${app.environment?.PORT}`);
    expect(app.expose).toContain(app.environment?.PORT);
    // inside a container the listeners must not be loopback-only
    expect(serveFlags.get('--host')).toBe('0.0.0.0');
    expect(app.environment?.HOST).toBe('0.0.0.0');
    expect(proxyFlags.get('--http-address')).toBe('0.0.0.0:4180');
    expect(proxy.ports).toContain('127.0.0.1:4180:4180');
  });

  it('uses only flags that `cookie-bridge serve` defines', () => {
    const known = serveOptionFlags();
    for (const name of flags(serve).keys()) expect(known).toContain(name);
    expect(known).toEqual(expect.arrayContaining(['--upstream', '--port', '--host', '--identity-header']));
  });

  it('passes the identity header that serve and the app read', () => {
    expect(flags(proxy).get('--pass-user-headers')).toBe('true');
    expect(flags(serve).get('--identity-header')).toBe('X-Forwarded-Email');
    expect(app.environment?.IDENTITY_HEADER).toBe('X-Forwarded-Email');
  });

  it("exempts cookie-bridge's relay routes from the proxy", () => {
    const route = new RegExp(flags(proxy).get('--skip-auth-route')!);
    expect(route.test(`${RELAY_PREFIX}claim`)).toBe(true);
    expect(route.test('/token')).toBe(false);
    expect(route.test('/api/whoami')).toBe(false);
  });

  it('agrees with dex on the client, its secret, the issuer and the callback', () => {
    const proxyFlags = flags(proxy);
    const client = dex.staticClients.find((c) => c.id === proxyFlags.get('--client-id'));
    expect(client).toBeDefined();
    expect(client!.secret).toBe(proxyFlags.get('--client-secret'));
    expect(client!.redirectURIs).toContain(proxyFlags.get('--redirect-url'));
    expect(proxyFlags.get('--oidc-issuer-url')).toBe(dex.issuer);
    expect(proxyFlags.get('--login-url')).toBe(`${dex.issuer}/auth`);
    expect(proxyFlags.get('--redeem-url')).toBe(`${dex.issuer.replace('localhost', 'dex')}/token`);
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

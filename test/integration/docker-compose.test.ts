/**
 * Docker cannot run here, so docker-compose.yml is checked on paper against the code: service names, the
 * chain of upstreams and ports (oauth2-proxy → the nginx load balancer → two serve replicas → the app), the
 * serve flags the CLI really has, the relay exemption, the proxy secret shared by oauth2-proxy and serve, the
 * relay store the replicas share (one Redis, one prefix), and the OpenID client shared by oauth2-proxy (its
 * alpha config, deploy/oauth2-proxy.yaml) and dex. And Debian's docker-compose (v1), which validates a compose
 * file without a Docker engine, must accept it as it is (`docker-compose config -q`: no error, no warning).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Command } from 'commander';
import { RELAY_PREFIX } from '../../src/protocol/relay-protocol';
import { defineServe } from '../../src/cli/definitions/serve';
import { resolveRelayStoreSettings } from '../../src/cli/relay-store-settings';
import { DEFAULT_AUDIENCE } from '../../src/server/accounts/account-service';
import { requireComponent } from '../../fixtures/real-components/require-component';

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
  volumes?: Record<string, unknown>;
};
/** deploy/nginx-lb.conf: the load balancer in front of the serve replicas. */
const lbConf = readFileSync(path.join(ROOT, 'deploy', 'nginx-lb.conf'), 'utf8');
/** The serve replicas: every service whose command is `serve …`. */
const SERVE_REPLICAS = ['serve-1', 'serve-2'];
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
/** The long flags `cookie-bridge serve` defines: its definition itself (src/cli/definitions/serve.ts). */
function serveOptionFlags(): string[] {
  const serve = defineServe(new Command('cookie-bridge'), () => async () => undefined);
  return serve.options.map((option) => option.long ?? '').filter((flag) => flag !== '');
}

describe('docker-compose.yml', () => {
  const services = compose.services;
  const proxy = services['oauth2-proxy']!;
  const serve = services['serve-1']!;
  const replicas = SERVE_REPLICAS.map((name) => services[name]!);
  const app = services.app!;
  const lb = services.lb!;
  const redis = services.redis!;

  const dockerCompose = '/usr/bin/docker-compose';
  (requireComponent('docker-compose', dockerCompose) ? it : it.skip)(
    'docker-compose accepts the file as it is (config -q: no error, no warning on stderr)',
    () => {
      const result = spawnSync(dockerCompose, ['-f', path.join(ROOT, 'docker-compose.yml'), 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' },
      });
      expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({
        status: 0,
        stdout: '',
        stderr: '',
      });
    },
  );

  it('has the services: dex → oauth2-proxy → lb → serve-1, serve-2 (sharing redis) → app', () => {
    expect(Object.keys(services).sort()).toEqual([
      'app',
      'dex',
      'lb',
      'oauth2-proxy',
      'redis',
      'serve-1',
      'serve-2',
    ]);
    expect(Object.keys(services).filter((name) => services[name]!.command?.[0] === 'serve')).toEqual(
      SERVE_REPLICAS,
    );
    expect(proxy.image).toMatch(/^quay\.io\/oauth2-proxy\/oauth2-proxy:v\d+\.\d+\.\d+$/);
    expect(services.dex!.image).toMatch(/^ghcr\.io\/dexidp\/dex:v\d+/);
    expect(lb.image).toMatch(/^nginx:\d+/);
    expect(redis.image).toBe('redis:7');
    for (const replica of replicas) expect(replica.build).toBe('.');
    expect(app.build).toBe('.');
  });

  it('chains the upstreams on the ports each service listens on', () => {
    const serveFlags = flags(serve);
    const lbPort = /listen (\d+);/.exec(lbConf)?.[1];
    expect(alpha.upstreamConfig.upstreams).toEqual([{ id: 'lb', path: '/', uri: `http://lb:${lbPort}` }]);
    expect(lb.expose).toContain(lbPort);
    expect(lb.volumes).toContain('./deploy/nginx-lb.conf:/etc/nginx/conf.d/default.conf:ro');
    expect(proxy.depends_on).toContain('lb');
    expect(lb.depends_on).toEqual(SERVE_REPLICAS);
    // The load balancer lists every replica, on the port it listens on, and proxies to that list.
    const upstreamBlock = /upstream (\w+) \{([^}]*)\}/.exec(lbConf);
    expect([...(upstreamBlock?.[2] ?? '').matchAll(/server ([\w-]+:\d+);/g)].map((m) => m[1])).toEqual(
      SERVE_REPLICAS.map((name) => `${name}:${flags(services[name]!).get('--port')}`),
    );
    expect(lbConf).toContain(`proxy_pass http://${upstreamBlock?.[1]};`);
    for (const replica of replicas) {
      expect(replica.command?.[0]).toBe('serve');
      expect(replica.expose).toContain(flags(replica).get('--port'));
      expect(replica.depends_on).toEqual(expect.arrayContaining(['app', 'redis']));
    }
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
    for (const replica of replicas) {
      for (const name of flags(replica).keys()) expect(known).toContain(name);
      for (const arg of replica.command ?? []) if (/^--[a-z-]+$/.test(arg)) expect(known).toContain(arg);
    }
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
    for (const replica of replicas) expect(flags(replica).get('--identity-header')).toBe('X-Forwarded-Email');
    expect(app.environment?.IDENTITY_HEADER).toBe('X-Forwarded-Email');
  });

  it("exempts exactly cookie-bridge's three relay routes from the proxy", () => {
    const routes = flagList(proxy)
      .filter(([name, value]) => name === '--skip-auth-route' && value.includes(RELAY_PREFIX))
      .map(([, value]) => value);
    expect(routes).toEqual([
      `GET=^${RELAY_PREFIX}info$`,
      `POST=^${RELAY_PREFIX}register$`,
      `POST=^${RELAY_PREFIX}claim$`,
    ]);
    // (test/unit/proxy-recipes.test.ts checks these against the path-confusion spellings.)
  });

  it("gives robots service accounts: oauth2-proxy verifies serve's tokens itself, the issuer routes pass", () => {
    const issuer = flags(serve).get('--sa-issuer') ?? '';
    const issuerPath = new URL(issuer).pathname;
    for (const replica of replicas) {
      expect(replica.command).toContain('--service-accounts');
      expect(flags(replica).get('--sa-issuer')).toBe(issuer);
      // Keys and registry in the shared Redis: serve does so with a Redis relay store (no state dir flag).
      expect(flags(replica).has('--state-dir')).toBe(false);
      expect(replica.environment?.COOKIE_BRIDGE_RELAY_STORE).toMatch(/^redis:/);
    }
    // The admin is a person dex knows.
    expect(dex.staticPasswords.map((p) => p.email)).toContain(flags(serve).get('--admin'));
    // The issuer is the endpoint users log in to (the proxy's published port), so its routes go through it.
    expect(new URL(issuer).origin).toBe(new URL(flags(proxy).get('--redirect-url') ?? '').origin);
    expect(flags(proxy).get('--skip-jwt-bearer-tokens')).toBe('true');
    expect(flags(proxy).get('--extra-jwt-issuers')).toBe(`${issuer}=${DEFAULT_AUDIENCE}`);
    const routes = flagList(proxy)
      .filter(([name, value]) => name === '--skip-auth-route' && !value.includes(RELAY_PREFIX))
      .map(([, value]) => value);
    const served = ['/.well-known/openid-configuration', '/.well-known/jwks.json', '/jwks'].map(
      (route) => `${issuerPath}${route}`,
    );
    expect(routes).toEqual(served.map((route) => `GET=^${route.replace(/\./g, '\\.')}$`));
  });

  it('sends serve the proxy secret, which serve alone trusts (it listens on 0.0.0.0)', () => {
    const secret = alpha.injectRequestHeaders.find(
      (header) => header.name === 'X-Cookie-Bridge-Proxy-Secret',
    );
    expect(secret?.values).toEqual([{ fromEnv: 'COOKIE_BRIDGE_PROXY_SECRET' }]);
    const value = proxy.environment?.COOKIE_BRIDGE_PROXY_SECRET ?? '';
    expect(value.length).toBeGreaterThanOrEqual(16);
    for (const replica of replicas) {
      expect(replica.environment?.COOKIE_BRIDGE_PROXY_SECRET).toBe(value);
      expect(flags(replica).get('--trusted-proxy')).toBe('none');
      // The secret is never on serve's command line.
      expect((replica.command ?? []).join(' ')).not.toContain(value);
    }
    // The load balancer passes the headers on as oauth2-proxy sent them (it sets none of its own but these).
    expect([...lbConf.matchAll(/proxy_set_header ([\w-]+)/g)].map((m) => m[1])).toEqual([
      'Host',
      'X-Forwarded-For',
      'Upgrade',
      'Connection',
    ]);
    expect(lbConf).toContain('proxy_set_header X-Forwarded-For $http_x_forwarded_for;');
    expect(lbConf).toContain('proxy_set_header Host $http_host;');
  });

  it('gives both replicas one relay store: the same Redis URL, password and prefix, which the CLI accepts', async () => {
    const [first, ...others] = replicas.map((replica) => ({
      command: replica.command,
      environment: replica.environment,
    }));
    for (const other of others) expect(other).toEqual(first);
    const env = serve.environment ?? {};
    const settings = await resolveRelayStoreSettings(
      {
        ...(flags(serve).has('--relay-store-prefix')
          ? { relayStorePrefix: flags(serve).get('--relay-store-prefix')! }
          : {}),
      },
      env,
      {
        readPasswordFile: () => Promise.reject(new Error('no file')),
        readCaFile: () => Promise.reject(new Error('no file')),
      },
    );
    expect(settings).toMatchObject({
      kind: 'redis',
      url: 'redis://redis:6379/0',
      prefix: 'cookie-bridge:relay:',
    });
    // The URL names the redis service on the port it exposes; the password is the one it requires.
    const url = new URL(env.COOKIE_BRIDGE_RELAY_STORE ?? '');
    expect(url.hostname).toBe('redis');
    expect(redis.expose).toContain(url.port);
    const redisArgs = redis.command ?? [];
    expect(redisArgs[0]).toBe('redis-server');
    expect(redisArgs[redisArgs.indexOf('--requirepass') + 1]).toBe(env.COOKIE_BRIDGE_RELAY_STORE_PASSWORD);
    // Pending logins survive a Redis restart: append-only file on a named volume.
    expect(redisArgs[redisArgs.indexOf('--appendonly') + 1]).toBe('yes');
    expect(redis.volumes).toContain('redis-data:/data');
    expect(compose.volumes).toHaveProperty('redis-data');
    // Never a password on serve's command line.
    for (const replica of replicas)
      expect((replica.command ?? []).join(' ')).not.toMatch(/redis:\/\/[^ ]*:[^ ]*@/);
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

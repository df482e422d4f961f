/**
 * openRedisConnection's state machine without a server: a fake client (an EventEmitter with ioredis's `status`,
 * `quit` and `disconnect`) emits ready / error / close; manual timers stand for the deadline. The real-server
 * suites (redis-relay-store*.test.ts, redis-account-state-store.test.ts) prove the rest.
 */
import { EventEmitter } from 'node:events';

import type { Redis, RedisOptions } from 'ioredis';

import { openRedisConnection, type RedisConnection } from '../../src/server/redis-connection';
import { recordingLogger } from '../kit/in-process-login';
import { manualTimers, type ManualTimers } from '../kit/manual-timers';

const PASSWORD = 'fake-Pa55-word';
const URL_PASSWORD = 'url-Secret-9';

class FakeClient extends EventEmitter {
  status = 'connecting';
  options: RedisOptions;
  quits = 0;
  disconnects = 0;
  /** What quit() does; by default it ends the connection at once. */
  quitAnswer: () => Promise<'OK'> = () => {
    this.status = 'end';
    return Promise.resolve('OK');
  };

  constructor(options: RedisOptions) {
    super();
    this.options = options;
  }
  quit(): Promise<'OK'> {
    this.quits += 1;
    return this.quitAnswer();
  }
  disconnect(): void {
    this.disconnects += 1;
    this.status = 'end';
  }
  up(): void {
    this.status = 'ready';
    this.emit('ready');
  }
  down(message: string): void {
    this.status = 'reconnecting';
    this.emit('error', new Error(message));
    this.emit('close');
  }
}

function open(url = 'redis://relay@127.0.0.1:6390/1'): {
  connection: RedisConnection;
  fake: FakeClient;
  logger: ReturnType<typeof recordingLogger>;
  timers: ManualTimers;
} {
  const logger = recordingLogger();
  const timers = manualTimers();
  let fake: FakeClient | undefined;
  const connection = openRedisConnection({
    url,
    password: PASSWORD,
    commandTimeoutMs: 1500,
    connectionName: 'cookie-bridge-test',
    label: 'test store',
    meanwhile: 'tests answer 503 meanwhile',
    logger,
    timers,
    createClient: (options) => {
      fake = new FakeClient(options);
      return fake as unknown as Redis;
    },
  });
  if (fake === undefined) throw new Error('no client created');
  return { connection, fake, logger, timers };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a rejection');
  return outcome;
}

describe('openRedisConnection', () => {
  it("builds the client from the URL with the password option, the timeout and the connection's name", () => {
    const { fake, connection } = open();
    expect(fake.options).toMatchObject({
      host: '127.0.0.1',
      port: 6390,
      db: 1,
      username: 'relay',
      password: PASSWORD,
      commandTimeout: 1500,
      connectionName: 'cookie-bridge-test',
      enableOfflineQueue: false,
    });
    expect(connection.displayUrl).toBe('redis://relay@127.0.0.1:6390/1');
  });

  it('lets an operation made during the first attempt wait for it, then run', async () => {
    const { connection, fake, logger } = open();
    const answer = connection.run(() => Promise.resolve('value'));
    fake.up();
    await expect(answer).resolves.toBe('value');
    await expect(connection.ready()).resolves.toBe(true);
    expect(logger.lines).toEqual(['debug: test store redis://relay@127.0.0.1:6390/1: connected']);
  });

  it('warns once when it cannot connect, rejects at once while down, and says when it is back', async () => {
    const { connection, fake, logger } = open();
    fake.down('connect ECONNREFUSED 127.0.0.1:6390');
    fake.down('connect ECONNREFUSED 127.0.0.1:6390');
    await expect(connection.ready()).resolves.toBe(false);
    let ran = false;
    const error = await rejection(
      connection.run(() => {
        ran = true;
        return Promise.resolve(1);
      }),
    );
    expect(ran).toBe(false);
    expect(error.message).toBe('not connected (connect ECONNREFUSED 127.0.0.1:6390)');
    fake.up();
    await expect(connection.run(() => Promise.resolve(2))).resolves.toBe(2);
    expect(logger.lines).toEqual([
      'warn: test store redis://relay@127.0.0.1:6390/1: cannot connect (connect ECONNREFUSED 127.0.0.1:6390); ' +
        'retrying, tests answer 503 meanwhile',
      'info: test store redis://relay@127.0.0.1:6390/1: connected again',
    ]);
  });

  it('warns "connection lost" once when an open connection goes away', async () => {
    const { connection, fake, logger } = open();
    fake.up();
    await connection.ready();
    fake.down('read ECONNRESET');
    fake.emit('close');
    expect(logger.lines.filter((line) => line.startsWith('warn:'))).toEqual([
      'warn: test store redis://relay@127.0.0.1:6390/1: connection lost (read ECONNRESET); ' +
        'reconnecting, tests answer 503 meanwhile',
    ]);
  });

  it('rejects an operation that outlives its deadline, and clears the deadline of one that answered', async () => {
    const { connection, fake, timers } = open();
    fake.up();
    const slow = connection.run(() => new Promise<never>(() => undefined));
    const deadline = await timers.next();
    expect(deadline.ms).toBe(1500);
    deadline.fire();
    expect((await rejection(slow)).message).toBe('no answer within 1500 ms');

    const quick = connection.run(() => Promise.resolve('ok'));
    const itsDeadline = await timers.next();
    await expect(quick).resolves.toBe('ok');
    expect(itsDeadline.cancelled).toBe(true);
  });

  it('keeps passwords (option and URL) out of every message, logged or rejected', async () => {
    const { connection, fake, logger } = open(`redis://relay:${URL_PASSWORD}@127.0.0.1:6390`);
    fake.down(`WRONGPASS for ${PASSWORD} and ${URL_PASSWORD}`);
    const error = await rejection(connection.run(() => Promise.resolve(1)));
    fake.up();
    const failing = await rejection(connection.run(() => Promise.reject(new Error(`ERR AUTH ${PASSWORD}`))));
    const shown = [error.message, failing.message, ...logger.lines].join('\n');
    expect(shown).toContain('<redacted>');
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(URL_PASSWORD);
    expect(connection.displayUrl).toBe('redis://relay@127.0.0.1:6390');
  });

  it('closes by quitting when connected, then refuses operations; a second close does nothing', async () => {
    const { connection, fake, logger } = open();
    fake.up();
    await connection.close();
    await connection.close();
    expect(fake.quits).toBe(1);
    expect(fake.disconnects).toBe(0);
    expect((await rejection(connection.run(() => Promise.resolve(1)))).message).toBe('closed');
    fake.down('closed by us');
    expect(logger.lines.filter((line) => line.startsWith('warn:'))).toEqual([]);
  });

  it('gives up on a QUIT that does not answer within the timeout and drops the socket; never throws', async () => {
    const { connection, fake, timers } = open();
    fake.up();
    fake.quitAnswer = () => new Promise<'OK'>(() => undefined);
    const closing = connection.close();
    const bound = await timers.next();
    expect(bound.ms).toBe(1500);
    bound.fire();
    await expect(closing).resolves.toBeUndefined();
    expect(fake.disconnects).toBe(1);

    const other = open();
    other.fake.up();
    other.fake.quitAnswer = () => Promise.reject(new Error('Connection is closed.'));
    await expect(other.connection.close()).resolves.toBeUndefined();
    expect(other.fake.disconnects).toBe(1);
  });

  it('closes a connection that never came up without quitting, and settles ready() as false', async () => {
    const { connection, fake } = open();
    const ready = connection.ready();
    await connection.close();
    await expect(ready).resolves.toBe(false);
    expect(fake.quits).toBe(0);
    expect(fake.disconnects).toBe(1);
  });
});

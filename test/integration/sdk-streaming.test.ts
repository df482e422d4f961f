/**
 * The SDK streams big bodies with bounded buffering, both ways, against a real node:http server on
 * loopback: a paused reader of `response.body` (the body's readableLength stays small), a slow
 * `writeBodyTo` sink (its writableLength stays small), a slow server reading an upload stream, and the
 * session check still refusing a sign-in redirect before anything reaches the sink. Not timed.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { createForwardingClient, type CookieBridgeClient } from '../../src/sdk/forwarding-client';
import { SessionExpiredError } from '../../src/errors';
import { systemTimers, type Timers } from '../../src/context';
import { MemoryCredentialStore } from '../kit/memory-credential-store';
import { readSlowly, writeBytes } from '../kit/slow-reader';

const MIB = 1024 * 1024;
const BODY_BYTES = 256 * MIB;
/** Far above one socket read (64 KiB) and undici's high-water mark, far below the body. */
const BUFFER_BOUND = 2 * MIB;
/** What one side may be ahead of the other: the loopback socket's kernel buffers (a few MiB each way) and more. */
const IN_FLIGHT_BOUND = 32 * MIB;
/** 20 ms every 4 MiB: far slower than loopback, so the sender would run ahead if anything let it. */
const SLOW = { pauseEveryBytes: 4 * MIB, pauseMs: 20 };

/** systemTimers that call `probe` at the end of every pause, just before the reader resumes. */
function probingTimers(probe: () => void): Timers {
  return {
    setTimeout: (callback, ms) =>
      systemTimers.setTimeout(() => {
        probe();
        callback();
      }, ms),
    clearTimeout: systemTimers.clearTimeout,
  };
}

describe('SDK streaming with bounded buffering', () => {
  let server: http.Server;
  let endpoint: string;
  let client: CookieBridgeClient;
  /** Upload handling: resolves with the bytes the server read (slowly). */
  let uploads: Promise<number>[];
  /** Bytes of the upload the server has read so far, and what the test checks at every pause. */
  let uploadReceived = 0;
  let onUploadPause = (): void => undefined;
  /** What the server has managed to send of the current download (into its socket, kept alive between tests). */
  let downloadSent = (): number => 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer stream-test') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      if (req.url === '/bytes') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const socket = req.socket;
        const before = socket.bytesWritten;
        downloadSent = () => socket.bytesWritten - before;
        void writeBytes(res, BODY_BYTES);
      } else if (req.url === '/page') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><title>Reports</title>${'<p>row</p>'.repeat(2000)}`);
      } else if (req.url === '/gone') {
        res.writeHead(302, { location: '/oauth2/sign_in?rd=%2Fgone' }).end();
      } else if (req.url === '/upload') {
        req.on('data', (chunk: Buffer) => (uploadReceived += chunk.length));
        const read = readSlowly(req, { ...SLOW, timers: probingTimers(() => onUploadPause()) });
        uploads.push(read);
        void read.then((bytes) => res.writeHead(200).end(JSON.stringify({ received: bytes })));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = await createForwardingClient({
      endpoint,
      store: new MemoryCredentialStore(() => 0),
      env: { COOKIE_BRIDGE_TOKEN: 'stream-test' },
    });
  });
  beforeEach(() => {
    uploads = [];
    uploadReceived = 0;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('response.body: a paused reader holds the connection, the body never piles up', async () => {
    const response = await client.fetch('/bytes');
    expect(response.status).toBe(200);
    let most = 0;
    const timers = probingTimers(() => (most = Math.max(most, response.body.readableLength)));
    expect(await readSlowly(response.body, { ...SLOW, timers })).toBe(BODY_BYTES);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(IN_FLIGHT_BOUND);
  });

  it('writeBodyTo: a slow sink gets every byte, never more queued than it asked for', async () => {
    let written = 0;
    let most = 0;
    let ahead = 0;
    let heads = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        most = Math.max(most, sink.writableLength);
        ahead = Math.max(ahead, downloadSent() - written);
        const before = written;
        written += chunk.length;
        // Slow: every 8 MiB the write completes only after a pause.
        if (Math.floor(before / SLOW.pauseEveryBytes) !== Math.floor(written / SLOW.pauseEveryBytes)) {
          systemTimers.setTimeout(callback, SLOW.pauseMs);
        } else callback();
      },
    });
    const response = await client.fetch('/bytes', {
      writeBodyTo: (head) => {
        heads += 1;
        expect(head.status).toBe(200);
        return sink;
      },
    });
    await response.finished;
    expect(heads).toBe(1);
    expect(written).toBe(BODY_BYTES);
    expect(sink.writableFinished).toBe(true);
    expect(most).toBeLessThanOrEqual(BUFFER_BOUND);
    expect(ahead).toBeGreaterThan(0);
    expect(ahead).toBeLessThanOrEqual(IN_FLIGHT_BOUND);
  });

  it('writeBodyTo: an HTML page the session check reads first still arrives whole', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const response = await client.fetch('/page', { writeBodyTo: () => sink });
    await response.finished;
    const page = Buffer.concat(chunks).toString();
    expect(page.startsWith('<!doctype html><title>Reports</title>')).toBe(true);
    expect(page.length).toBe('<!doctype html><title>Reports</title>'.length + '<p>row</p>'.length * 2000);
  });

  it('writeBodyTo: a sign-in redirect is refused before any sink is asked for', async () => {
    let asked = false;
    await expect(
      client.fetch('/gone', {
        writeBodyTo: () => {
          asked = true;
          return new Writable({ write: (_chunk, _encoding, callback) => callback() });
        },
      }),
    ).rejects.toBeInstanceOf(SessionExpiredError);
    expect(asked).toBe(false);
  });

  it('an upload stream is read only as fast as the server takes it', async () => {
    let produced = 0;
    let most = 0;
    const block = Buffer.alloc(MIB, 'u');
    const source = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        if (produced >= BODY_BYTES) {
          this.push(null);
          return;
        }
        produced += block.length;
        this.push(block);
      },
    });
    // At every pause of the server: what was taken from the source but not yet read by the server.
    onUploadPause = () => (most = Math.max(most, produced - uploadReceived));
    const response = await client.fetch('/upload', { method: 'PUT', body: source });
    // The server resolves its read before answering; `uploads` holds it.
    const serverRead = await uploads[0];
    expect(serverRead).toBe(BODY_BYTES);
    expect(await response.json()).toEqual({ received: BODY_BYTES });
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(IN_FLIGHT_BOUND);
  });
});

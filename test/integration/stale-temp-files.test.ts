/** A writer killed mid-write leaves write-file-atomic's temp file; the next locked write removes it. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileCredentialStore } from '../../src/store/file-credential-store';

describe('stale temp files of killed writers', () => {
  let home: string;
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('are removed by the next write of that endpoint, and nothing else is', async () => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-stale-'));
    const store = new FileCredentialStore({ home });
    const endpoint = 'http://127.0.0.1:8080';
    await store.saveLogin({ endpoint, auth: { type: 'cookies' }, loggedInAt: new Date(0).toISOString() }, [
      { name: 'sid', value: 'one' },
    ]);
    const folder = store.pathsFor(endpoint).folder;
    for (const name of [
      'cookies.json.3141592653',
      'profile.json.27182818',
      'notes.txt',
      'cookies.json.bak',
    ]) {
      writeFileSync(path.join(folder, name), 'x');
    }
    await store.applySetCookies(endpoint, new URL(`${endpoint}/api`), ['sid=two; Path=/']);
    expect(readdirSync(folder).sort()).toEqual([
      'cookies.json',
      'cookies.json.bak',
      'notes.txt',
      'profile.json',
    ]);
    expect(await store.getCookieHeader(endpoint, new URL(`${endpoint}/`))).toBe('sid=two');
  });
});

/**
 * README.md's recipe "In an app that signs people in itself" is what the e2e suite runs: its code block, but
 * for the imports' module paths, is the marked part of fixtures/oidc-app/oidc-app.ts, line for line.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const FIXTURE = readFileSync(path.join(ROOT, 'fixtures', 'oidc-app', 'oidc-app.ts'), 'utf8');
const HEADING = '### In an app that signs people in itself (express-openid-connect, passport)';
/** The fixture imports the package by its source path. */
const MODULE_IN_FIXTURE: Record<string, string> = { 'cookie-bridge': '../../src/index' };

/** The README section under `heading`, up to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`${heading}\n`);
  if (start === -1) return '';
  const rest = markdown.slice(start + heading.length);
  const end = rest.search(/\n#{2,3} /);
  return end === -1 ? rest : rest.slice(0, end);
}

function codeLines(code: string): string[] {
  return code
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** Imported names by module, from `import a from 'm'` and `import { b, type C } from 'm'` lines. */
function importsOf(lines: readonly string[]): Map<string, Set<string>> {
  const imports = new Map<string, Set<string>>();
  for (const line of lines) {
    const match = /^import (?:(\w+)|\{([^}]*)\}) from '([^']+)';$/.exec(line);
    if (match === null) continue;
    const names = match[1] === undefined ? (match[2] ?? '').split(',') : [match[1]];
    const module = MODULE_IN_FIXTURE[match[3] ?? ''] ?? match[3] ?? '';
    const set = imports.get(module) ?? new Set<string>();
    for (const name of names) if (name.trim() !== '') set.add(name.trim());
    imports.set(module, set);
  }
  return imports;
}

const readmeBlock = /```ts\n([\s\S]*?)```/.exec(section(README, HEADING))?.[1] ?? '';
const readmeLines = codeLines(readmeBlock);
const fixtureRegion = /\/\/ README recipe: begin\n([\s\S]*?)\/\/ README recipe: end/.exec(FIXTURE)?.[1] ?? '';

describe("README's express-openid-connect recipe", () => {
  it('has a code block, and the fixture has the marked recipe', () => {
    expect(readmeLines.length).toBeGreaterThan(5);
    expect(codeLines(fixtureRegion).length).toBeGreaterThan(5);
  });

  it('is, line for line, what fixtures/oidc-app/oidc-app.ts runs', () => {
    const body = readmeLines.filter((line) => !line.startsWith('import '));
    expect(body).toEqual(codeLines(fixtureRegion));
  });

  it('imports what the fixture imports', () => {
    const fixtureImports = importsOf(codeLines(FIXTURE));
    const readmeImports = importsOf(readmeLines);
    expect(readmeImports.size).toBe(3);
    for (const [module, names] of readmeImports) {
      expect({ module, names: [...names].filter((name) => !fixtureImports.get(module)?.has(name)) }).toEqual({
        module,
        names: [],
      });
    }
  });
});

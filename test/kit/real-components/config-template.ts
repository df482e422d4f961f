import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The fixtures folder at the root of the repository. */
export const FIXTURES_DIR = resolve(__dirname, '..', '..', '..', 'fixtures');

/**
 * Fills `{{NAME}}` placeholders in a template text. Every placeholder must have a value and every value must be
 * used, so a renamed placeholder fails loudly instead of producing a config that silently misses a line.
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const rendered = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`template has no placeholder for ${unused.join(', ')}`);
  return rendered;
}

/** Reads `fixtures/<relativePath>` and fills its placeholders. */
export function renderFixtureTemplate(
  relativePath: string,
  values: Readonly<Record<string, string>>,
): string {
  return renderTemplate(readFileSync(resolve(FIXTURES_DIR, relativePath), 'utf8'), values);
}

/** Rejects values that would break out of a quoted config string or a config line. */
export function configSafe(value: string, what: string): string {
  if (!/^[A-Za-z0-9._~:/?#@!$&'()*+,;=%[\]-]*$/.test(value)) {
    throw new Error(
      `${what} has characters not allowed in a generated server config: ${JSON.stringify(value)}`,
    );
  }
  return value;
}

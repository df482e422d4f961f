import type { AccountDocumentCodec } from './account-state-store';
import { ROLES, SERVICE_ACCOUNT_NAME, type Role, type ServiceAccount } from './account-types';

/**
 * The registry's two documents and their stored JSON: the service accounts by name, and the people serve has
 * seen (with the role an admin set, if any) by identity. Neither holds a secret: a token is never stored, only
 * its `jti`.
 */

export interface ServiceAccountRegistry {
  accounts: ReadonlyMap<string, ServiceAccount>;
}

/** A person as stored: the role an admin set (absent: --admin list or the default decides) and when they were seen. */
export interface StoredPerson {
  identity: string;
  role?: Role;
  roleChangedBy?: string;
  roleChangedAt?: number;
  lastSeenAt?: number;
}

export interface PeopleRegistry {
  people: ReadonlyMap<string, StoredPerson>;
}

/** People are keyed by their identity in lower case: the proxies' e-mail addresses differ in case now and then. */
export function identityKey(identity: string): string {
  return identity.trim().toLowerCase();
}

export const serviceAccountsCodec: AccountDocumentCodec<ServiceAccountRegistry> = {
  name: 'service-accounts',
  empty: () => ({ accounts: new Map() }),
  serialize: (registry) => ({ version: 1, serviceAccounts: [...registry.accounts.values()] }),
  parse(raw) {
    if (!isRecord(raw) || raw.version !== 1 || !Array.isArray(raw.serviceAccounts)) {
      throw new Error('is not a cookie-bridge service accounts document (version 1 with "serviceAccounts")');
    }
    const accounts = new Map<string, ServiceAccount>();
    raw.serviceAccounts.forEach((entry: unknown, index) => {
      const account = parseAccount(entry);
      if (account === undefined) throw new Error(`entry ${index + 1} is not a service account`);
      if (accounts.has(account.name)) throw new Error(`lists ${account.name} twice`);
      accounts.set(account.name, account);
    });
    return { accounts };
  },
};

export const peopleCodec: AccountDocumentCodec<PeopleRegistry> = {
  name: 'people',
  empty: () => ({ people: new Map() }),
  serialize: (registry) => ({ version: 1, people: [...registry.people.values()] }),
  parse(raw) {
    if (!isRecord(raw) || raw.version !== 1 || !Array.isArray(raw.people)) {
      throw new Error('is not a cookie-bridge people document (version 1 with "people")');
    }
    const people = new Map<string, StoredPerson>();
    raw.people.forEach((entry: unknown, index) => {
      const person = parsePerson(entry);
      if (person === undefined) throw new Error(`entry ${index + 1} is not a person`);
      people.set(identityKey(person.identity), person);
    });
    return { people };
  },
};

function parseAccount(entry: unknown): ServiceAccount | undefined {
  if (!isRecord(entry)) return undefined;
  const { name, role, jti, createdAt, expiresAt, createdBy, revokedAt, revokedBy } = entry;
  if (typeof name !== 'string' || !SERVICE_ACCOUNT_NAME.test(name) || !isRole(role)) return undefined;
  if (typeof jti !== 'string' || typeof createdBy !== 'string' || !isTime(createdAt) || !isTime(expiresAt)) {
    return undefined;
  }
  if (revokedAt !== undefined && !isTime(revokedAt)) return undefined;
  if (revokedBy !== undefined && typeof revokedBy !== 'string') return undefined;
  return {
    name,
    role,
    jti,
    createdAt,
    expiresAt,
    createdBy,
    ...(revokedAt === undefined ? {} : { revokedAt }),
    ...(revokedBy === undefined ? {} : { revokedBy }),
  };
}

function parsePerson(entry: unknown): StoredPerson | undefined {
  if (!isRecord(entry) || typeof entry.identity !== 'string' || entry.identity === '') return undefined;
  const { role, roleChangedBy, roleChangedAt, lastSeenAt } = entry;
  if (role !== undefined && !isRole(role)) return undefined;
  if (roleChangedBy !== undefined && typeof roleChangedBy !== 'string') return undefined;
  if (
    (roleChangedAt !== undefined && !isTime(roleChangedAt)) ||
    (lastSeenAt !== undefined && !isTime(lastSeenAt))
  ) {
    return undefined;
  }
  return {
    identity: entry.identity,
    ...(role === undefined ? {} : { role }),
    ...(roleChangedBy === undefined ? {} : { roleChangedBy }),
    ...(roleChangedAt === undefined ? {} : { roleChangedAt }),
    ...(lastSeenAt === undefined ? {} : { lastSeenAt }),
  };
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

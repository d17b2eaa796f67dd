import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AccessResolver, MemberAccess, UserGroups } from '../authz/access-ports.js';
import type { Role } from '../authz/roles.js';
import { TenancyService } from '../tenancy/tenancy.service.js';
import { Unscoped } from '../tenancy/unscoped.js';
import { UsersService } from '../users/users.service.js';
import { MembershipsService } from './memberships.service.js';

/**
 * How long this process trusts a membership role or an operator flag it has read. A change made through this
 * process is seen at once (the code that makes it calls `forget…` after its commit); a change made through
 * another instance, or by the CLI (`platform-admin revoke`), is seen here within this time. It bounds how long a
 * removed or demoted member, or a revoked operator, keeps the rights of a still-valid access token on the other
 * instances; and it keeps the hot path at one membership read per user and company per 5 s, not one per request.
 */
export const ACCESS_CACHE_TTL_MS = 5_000;

/** The most entries a cache keeps (least recently used go first): a burst of distinct callers cannot grow memory. */
const MAX_ENTRIES = 50_000;

/** Reads a person's groups in a company (registered by the groups feature; none when it is absent). */
export type GroupSource = (companyId: string, userId: string) => Promise<UserGroups>;

const NO_GROUPS: UserGroups = Object.freeze({ keys: [], permissions: [] });

interface Entry<T> {
  value: Promise<T>;
}

/**
 * An entry lives `ACCESS_CACHE_TTL_MS` from when its read started, on lru-cache's monotonic clock
 * (`performance.now()`), so a wall-clock jump neither ages nor freezes it.
 */
function accessCache<T>(): LRUCache<string, Entry<T>> {
  return new LRUCache<string, Entry<T>>({ max: MAX_ENTRIES, ttl: ACCESS_CACHE_TTL_MS });
}

/**
 * What the global guard needs to know *now* about a token's principal, beyond what the token says: the current
 * membership role of a user in the token's company (the token carries the role of when it was issued, up to 15
 * minutes ago), and whether a switched-in operator still holds the `platform:admin` flag (a switch-in token lives
 * up to 60 minutes). Cached per process for `ACCESS_CACHE_TTL_MS`; concurrent misses share one read, and a
 * failed read is not remembered.
 */
@Injectable()
export class AccessCache implements AccessResolver {
  /** A member's role and groups together: the hot path reads one entry per request, not two. */
  private readonly members = accessCache<MemberAccess>();
  private readonly operators = accessCache<boolean>();
  private groupSource: GroupSource | undefined;

  constructor(
    private readonly tenancy: TenancyService,
    private readonly memberships: MembershipsService,
    private readonly users: UsersService,
  ) {}

  /** The user's role (null: not, or no longer, a member) and groups in the company now, read together. */
  memberAccess(companyId: string, userId: string): Promise<MemberAccess> {
    return this.cached(this.members, `${companyId}:${userId}`, async () => {
      const source = this.groupSource;
      const [role, groups] = await Promise.all([
        this.readRole(companyId, userId),
        source ? source(companyId, userId) : NO_GROUPS,
      ]);
      return { role, groups };
    });
  }

  private async readRole(companyId: string, userId: string): Promise<Role | null> {
    // The membership is tenant data: read in that company's own context, on a fork of its own (nothing of
    // this read lands in the request's identity map or transaction).
    const membership = await this.tenancy.run(
      {
        companyId,
        principalId: userId,
        principalType: 'user',
        role: 'member',
        userId,
        actingUserId: userId,
        operatorId: undefined,
      },
      (em) => this.memberships.findInCompany(userId, em),
    );
    return membership?.role ?? null;
  }

  /**
   * Whether the user holds the `platform:admin` flag. `fresh` reads it from the database whatever is cached
   * (and caches what it read): the platform routes themselves, which mint switch-in tokens, never trust a cache.
   */
  isOperator(userId: string, options: { fresh?: boolean } = {}): Promise<boolean> {
    if (options.fresh) this.operators.delete(userId);
    return this.cached(this.operators, userId, () =>
      // Accounts are not tenant data; an unscoped fork keeps this read out of the request's identity map.
      this.tenancy.unscoped(Unscoped.Login, (em) => this.users.isPlatformAdmin(userId, em)),
    );
  }

  /** The groups feature tells where a person's groups are read (called once, when its module starts). */
  setGroupSource(source: GroupSource): void {
    this.groupSource = source;
  }

  /** After a change of the user's membership in the company (role change, removal, transfer, join) committed. */
  forgetMember(companyId: string, userId: string): void {
    this.members.delete(`${companyId}:${userId}`);
  }

  /** After a group of the company changed (its permissions, its members, or it was deleted) committed. */
  forgetGroups(companyId: string): void {
    this.forgetCompany(companyId);
  }

  /** After every membership of the company went at once (purge). */
  forgetCompany(companyId: string): void {
    const prefix = `${companyId}:`;
    for (const key of [...this.members.keys()]) if (key.startsWith(prefix)) this.members.delete(key);
  }

  private cached<T>(map: LRUCache<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit) return hit.value;
    const entry: Entry<T> = { value: load() };
    map.set(key, entry);
    // A failed read answers its callers with the error and is then forgotten. `forget…` during the read
    // removes the entry too, so a value read before a change committed is not kept after it.
    entry.value.catch(() => {
      if (map.get(key) === entry) map.delete(key);
    });
    return entry.value;
  }
}

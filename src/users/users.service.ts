import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { User } from './user.entity.js';

/** Normalises an email the way accounts store it. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Accounts are global; this service is the only code that reads or writes them. */
@Injectable()
export class UsersService {
  constructor(private readonly em: EntityManager) {}

  findByEmail(email: string, em: EntityManager = this.em): Promise<User | null> {
    return em.findOne(User, { email: normalizeEmail(email) });
  }

  findById(id: string, em: EntityManager = this.em): Promise<User | null> {
    return em.findOne(User, { id });
  }

  /** Whether the user holds the `platform:admin` flag (false for an unknown user). */
  async isPlatformAdmin(id: string, em: EntityManager = this.em): Promise<boolean> {
    const user = await em.findOne(User, { id }, { fields: ['id', 'platformAdmin'] });
    return user?.platformAdmin ?? false;
  }

  async emailTaken(email: string, em: EntityManager = this.em): Promise<boolean> {
    return (await em.count(User, { email: normalizeEmail(email) })) > 0;
  }

  /** Creates an account (persisted on `em`; the caller's transaction commits it). */
  create(em: EntityManager, input: { id?: string; email: string; name: string; passwordHash: string }): User {
    const user = new User(normalizeEmail(input.email), input.name, input.passwordHash);
    if (input.id) user.id = input.id;
    em.persist(user);
    return user;
  }

  async setPlatformAdmin(email: string, value: boolean, em: EntityManager = this.em): Promise<User | null> {
    const user = await this.findByEmail(email, em);
    if (!user) return null;
    user.platformAdmin = value;
    await em.flush();
    return user;
  }
}

import { Entity, Property } from '@mikro-orm/decorators/legacy';
import { BaseEntity } from '../database/base.entity.js';

/** A person. Users are global (one account, many companies); what they may touch is decided by memberships. */
@Entity({ tableName: 'users' })
export class User extends BaseEntity {
  /** Lower-cased on write; unique across the platform. */
  @Property({ length: 320, unique: true })
  email: string;

  @Property({ length: 200 })
  name: string;

  @Property({ type: 'text', hidden: true })
  passwordHash: string;

  /** Platform operator: may switch into a company. Granted only by `npm run cli -- platform-admin grant`. */
  @Property({ type: 'boolean', default: false })
  platformAdmin: boolean = false;

  @Property({ type: 'timestamptz', onUpdate: () => new Date(), defaultRaw: 'now()' })
  updatedAt: Date = new Date();

  constructor(email: string, name: string, passwordHash: string) {
    super();
    this.email = email;
    this.name = name;
    this.passwordHash = passwordHash;
  }
}

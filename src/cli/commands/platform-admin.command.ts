import { MikroORM } from '@mikro-orm/postgresql';
import { buildOrmConfig } from '../../database/orm.config.js';
import { User } from '../../users/user.entity.js';
import { normalizeEmail } from '../../users/users.service.js';
import type { CliCommand } from '../command.js';

/** The only way to make someone a platform operator: there is no API for it. */
export const platformAdminCommand: CliCommand = {
  name: 'platform-admin',
  usage: 'platform-admin <grant|revoke> <email>',
  description: 'Grant or revoke the platform:admin flag of an existing user',
  async run(args, ctx) {
    const [verb, email] = args;
    if ((verb !== 'grant' && verb !== 'revoke') || !email) {
      ctx.err(`usage: npm run cli -- ${this.usage}`);
      return 2;
    }
    const orm = await MikroORM.init(buildOrmConfig({ url: await ctx.ownerUrl(), poolMax: 1 }));
    try {
      const em = orm.em.fork();
      const user = await em.findOne(User, { email: normalizeEmail(email) });
      if (!user) {
        ctx.err(`No user with email ${email}`);
        return 1;
      }
      user.platformAdmin = verb === 'grant';
      await em.flush();
      ctx.out(`${user.email} is ${user.platformAdmin ? 'now' : 'no longer'} a platform operator.`);
      return 0;
    } finally {
      await orm.close(true);
    }
  },
};

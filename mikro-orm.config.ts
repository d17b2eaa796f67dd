// Configuration for the MikroORM CLI (`npm run migration:create`): connects as the owner, like `npm run migrate`.
import { buildOrmConfig } from './src/database/orm.config.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tenantry_dev';

export default buildOrmConfig({ url });

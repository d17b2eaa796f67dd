import type { EntityManager } from '@mikro-orm/postgresql';
import { Errors } from '../common/errors/app-error.js';
import { WikiPage } from './wiki-page.entity.js';

/** A page of the company by id, read through `em` (the caller's transaction, if any); 404 when there is none. */
export async function findPage(em: EntityManager, id: string): Promise<WikiPage> {
  const page = await em.findOne(WikiPage, { id });
  if (!page) throw Errors.notFound('WikiPage');
  return page;
}

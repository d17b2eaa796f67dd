import { Module } from '@nestjs/common';
import { WikiController } from './wiki.controller.js';
import { WikiRevisionsService } from './wiki-revisions.service.js';
import { WikiSearchService } from './wiki-search.service.js';
import { WikiTreeService } from './wiki-tree.service.js';
import { WikiService } from './wiki.service.js';

/** The company wiki: pages in a tree, revisions, search. */
@Module({
  controllers: [WikiController],
  providers: [WikiService, WikiTreeService, WikiRevisionsService, WikiSearchService],
  exports: [WikiService],
})
export class WikiModule {}

import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module.js';
import { BoardsController } from './boards.controller.js';
import { BoardsService } from './boards.service.js';
import { CardMovesService } from './card-moves.service.js';
import { CardsController } from './cards.controller.js';
import { CardsService } from './cards.service.js';

/** Kanban boards, columns and cards. Exports `CardsService` (member removal unassigns their cards). */
@Module({
  imports: [MembersModule],
  controllers: [BoardsController, CardsController],
  providers: [BoardsService, CardsService, CardMovesService],
  exports: [CardsService],
})
export class BoardsModule {}

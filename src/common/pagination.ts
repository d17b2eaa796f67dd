import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Errors } from './errors/app-error.js';
import { isUuid } from './ids.js';

const CURSOR_MAX = 200;

/** `?limit=` (1–100, default 20) and `?cursor=` (opaque) of every list. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', format: 'int32', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer between 1 and 100' })
  @Min(1, { message: 'limit must be an integer between 1 and 100' })
  @Max(100, { message: 'limit must be an integer between 1 and 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page', maxLength: CURSOR_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(CURSOR_MAX)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Builds the OpenAPI class of a page of `item`. */
export function PageDtoOf<T>(item: new (...args: never[]) => T, name: string) {
  class PageDto {
    @ApiProperty({ type: [item], maxItems: 100 })
    data: T[];

    @ApiProperty({
      type: String,
      maxLength: CURSOR_MAX,
      nullable: true,
      description: 'Pass as `cursor` to get the next page; null at the end',
    })
    nextCursor: string | null;
  }
  Object.defineProperty(PageDto, 'name', { value: name });
  return PageDto;
}

export const DEFAULT_LIMIT = 20;

/** Cursors are the base64url of the last row's id (UUID v7 ids are time-ordered: `id DESC` is newest first). */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUuid(id)) throw Errors.field('cursor', 'is not a cursor this API issued');
  return id;
}

/**
 * Keyset pagination, newest first: fetch `limit + 1` rows with `id < cursor` ordered by `id DESC`;
 * the extra row only tells whether there is a next page.
 */
export function keyset(query: PageQueryDto): { limit: number; after: string | undefined } {
  return { limit: query.limit ?? DEFAULT_LIMIT, after: decodeCursor(query.cursor) };
}

export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { data: page.map(map), nextCursor: more ? encodeCursor(page[page.length - 1].id) : null };
}

/** The `where` fragment and options of a keyset page for MikroORM `find`. */
export function keysetFind(query: PageQueryDto): {
  where: { id?: { $lt: string } };
  options: { orderBy: { id: 'desc' }; limit: number };
  limit: number;
} {
  const { limit, after } = keyset(query);
  return {
    where: after ? { id: { $lt: after } } : {},
    options: { orderBy: { id: 'desc' }, limit: limit + 1 },
    limit,
  };
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsOptional } from 'class-validator';
import { CATEGORIES, type Category, type JsonObject } from '../../templates/definition.js';
import { CatalogQueryDto, TemplateStepDto } from '../../templates/dto/template.dto.js';

export const LISTING_SOURCES = ['catalog', 'community'] as const;
export type ListingSource = (typeof LISTING_SOURCES)[number];

/** `?source=` on top of the catalog's filters: absent lists the catalog, then the community listings. */
export class MarketplaceQueryDto extends CatalogQueryDto {
  @ApiPropertyOptional({
    enum: LISTING_SOURCES,
    description:
      '`catalog`: the governed templates (by key) · `community`: listings of every company (newest first) · absent: both, the catalog first',
  })
  @IsOptional()
  @IsIn(LISTING_SOURCES, { message: `source must be one of ${LISTING_SOURCES.join(', ')}` })
  source?: ListingSource;
}

/**
 * An installable listing: a governed catalog template (`source: catalog`, the listing id is the template id) or a
 * company's published draft copied to the community marketplace (`source: community`). A community listing
 * carries nothing of its publisher but the `publisherName` it chose.
 */
export class ListingSummaryDto {
  @ApiProperty({ format: 'uuid' })
  listingId: string;

  @ApiProperty({ enum: LISTING_SOURCES })
  source: ListingSource;

  @ApiProperty({
    maxLength: 100,
    nullable: true,
    type: String,
    example: 'finance.invoice-approval',
    description: 'The catalog key; null for a community listing (the installer’s copy gets a key of its own)',
  })
  key: string | null;

  @ApiProperty({
    format: 'int32',
    maximum: 2_147_483_647,
    type: 'integer',
    minimum: 1,
    nullable: true,
    description: 'The catalog version; null for a community listing',
  })
  version: number | null;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 2000 })
  description: string;

  @ApiProperty({ enum: CATEGORIES })
  category: Category;

  @ApiProperty({ format: 'int32', minimum: 1, maximum: 50, type: 'integer' })
  stepCount: number;

  @ApiProperty({
    maxLength: 100,
    nullable: true,
    type: String,
    description: 'Community: the name its publisher chose; null for the catalog',
  })
  publisherName: string | null;

  @ApiProperty({ maxLength: 500, nullable: true, type: String })
  summary: string | null;

  @ApiProperty({
    format: 'date-time',
    nullable: true,
    type: String,
    description: 'Community: when it was (re-)listed; null for the catalog',
  })
  listedAt: string | null;

  @ApiProperty({
    format: 'int32',
    minimum: 0,
    maximum: 2_147_483_647,
    type: 'integer',
    nullable: true,
    description:
      'Community: how many times it was installed (who installed is private); null for the catalog',
  })
  installCount: number | null;
}

/** A listing with the definition an install copies. */
export class ListingDto extends ListingSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true })
  inputSchema: JsonObject;

  @ApiProperty({ maxItems: 50, type: [TemplateStepDto] })
  steps: TemplateStepDto[];
}

/** Optional choices for the copy; both are validated like any draft field. */
export class InstallListingDto {
  @ApiPropertyOptional({
    description:
      'Key of the new draft; default `<listing key>-copy` for the catalog, `<category>.<name>` for a community listing (then `-2`, …)',
    maxLength: 100,
  })
  @Allow()
  key?: string;

  @ApiPropertyOptional({ description: "Name of the new draft; default the listing's", maxLength: 200 })
  @Allow()
  name?: string;
}

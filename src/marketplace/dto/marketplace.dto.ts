import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow } from 'class-validator';
import { CATEGORIES, type Category, type JsonObject } from '../../templates/definition.js';
import { TemplateStepDto } from '../../templates/dto/template.dto.js';

/** An installable listing: a governed catalog template (the listing id is the template id). */
export class ListingSummaryDto {
  @ApiProperty({ format: 'uuid' })
  listingId: string;

  @ApiProperty({ maxLength: 100, example: 'finance.invoice-approval' })
  key: string;

  @ApiProperty({ format: 'int32', maximum: 2_147_483_647, type: 'integer', minimum: 1 })
  version: number;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ maxLength: 2000 })
  description: string;

  @ApiProperty({ enum: CATEGORIES })
  category: Category;

  @ApiProperty({ format: 'int32', minimum: 1, maximum: 50, type: 'integer' })
  stepCount: number;
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
    description: 'Key of the new draft; default `<listing key>-copy` (then `-copy-2`, …)',
    maxLength: 100,
  })
  @Allow()
  key?: string;

  @ApiPropertyOptional({ description: "Name of the new draft; default the listing's", maxLength: 200 })
  @Allow()
  name?: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Optional, OptionalOrNull } from '../../common/dto/optional.js';
import { ListingDto } from '../../marketplace/dto/marketplace.dto.js';
import { IsId } from '../../common/dto/uuid.js';

/** `POST /v1/drafts/{id}/listing`: what to list and under which name. */
export class CreateListingDto {
  @ApiPropertyOptional({
    format: 'uuid',
    maxLength: 36,
    description: 'A published version of the draft; the latest when absent',
  })
  @Optional()
  @IsId({ message: 'versionId must be a UUID' })
  versionId?: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 100,
    description: 'The name shown as the publisher: chosen freely, nothing else of the company is shown',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @Matches(/\S/, { message: 'publisherName must not be blank' })
  publisherName: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: 500,
    nullable: true,
    description: 'A short pitch shown with the listing',
  })
  @OptionalOrNull()
  @IsString()
  @MaxLength(500)
  summary?: string | null;
}

/** The publisher's view of its draft's listing: the public listing, and which version of the draft it copies. */
export class DraftListingDto extends ListingDto {
  @ApiProperty({ format: 'uuid', description: 'The published version of the draft the listing copies' })
  versionId: string;
}

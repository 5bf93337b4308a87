import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageQuery } from '../../common/pagination/list-query.dto';
import { TAG_ACTIONS, TagAction } from '../tag.entity';

export class ReasonDto {
  @ApiPropertyOptional({ maxLength: 1024, example: 'incident 4711: p99 regression in v7' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  reason?: string;
}

/** Where a tag should point: a version number, or any reference (`@3`, `@sha256:…`, `:staging`). */
export class TagTargetDto extends ReasonDto {
  @ApiPropertyOptional({ example: 3, description: 'A version number; give this or `ref`' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  version?: number;

  @ApiPropertyOptional({
    example: '@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description: 'A reference to this model: `@3`, `@sha256:<digest>`, `:other-tag` (or the full `project/model…` form)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  ref?: string;
}

export class TagDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 'resnet50' })
  model!: string;

  @ApiProperty({ example: 'prod' })
  name!: string;

  @ApiProperty({ example: 'vision/resnet50:prod' })
  reference!: string;

  @ApiProperty({ example: 3, description: 'The version the tag points to' })
  version!: number;

  @ApiProperty({ type: String, nullable: true, example: 'sha256:9f86d0…' })
  manifestDigest!: string | null;

  @ApiProperty({ description: 'A pinned tag refuses moves until unpinned' })
  pinned!: boolean;

  @ApiProperty({ type: String, nullable: true })
  pinnedBy!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  pinnedAt!: string | null;

  @ApiProperty({ description: '`latest` follows the newest ready version by itself (unless pinned)' })
  automatic!: boolean;

  @ApiProperty({ example: 'alice' })
  updatedBy!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

export class TagPageDto {
  @ApiProperty({ type: [TagDto] })
  items!: TagDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class TagHistoryQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 2_147_483_647, description: 'Only entries older than this sequence number (the previous page\'s nextBefore)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  before?: number;
}

export class ListTagsQuery extends PageQuery {}

export class TagHistoryEntryDto {
  @ApiProperty({ example: 4, description: 'Position in this tag\'s history: 1, 2, 3… in the order the changes committed' })
  seq!: number;

  @ApiProperty({ enum: TAG_ACTIONS, description: '`follow` is an automatic move of `latest`' })
  action!: TagAction;

  @ApiProperty({ type: Number, nullable: true, description: 'Version before the change (null when the tag was created)' })
  from!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Version after the change (null when the tag was deleted)' })
  to!: number | null;

  @ApiProperty({ example: 'alice' })
  actor!: string;

  @ApiProperty()
  reason!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  at!: string;
}

export class TagHistoryPageDto {
  @ApiProperty({ type: [TagHistoryEntryDto], description: 'Newest first' })
  items!: TagHistoryEntryDto[];

  @ApiProperty({ type: Number, nullable: true, description: 'Pass as `before` for the next (older) page' })
  nextBefore!: number | null;
}

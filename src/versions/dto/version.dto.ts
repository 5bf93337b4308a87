import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination/list-query.dto';
import { VERSION_STATES, VersionState } from '../model-version.entity';

export class CreateVersionDto {
  @ApiPropertyOptional({ maxLength: 4096, example: 'fine-tuned on 2026-11 data' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Free-form JSON object (framework, metrics, source run, git sha), at most MAX_METADATA_BYTES when serialised',
    example: { framework: 'pytorch', metrics: { top1: 0.761 }, gitSha: '3f2c9e1' },
  })
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

export class UpdateVersionDto extends CreateVersionDto {
  @ApiPropertyOptional({
    enum: ['ready', 'archived', 'failed'],
    description: '`archived` hides a ready version from listings, `ready` brings it back, `failed` abandons a draft',
  })
  @IsOptional()
  @IsIn(['ready', 'archived', 'failed'])
  state?: 'ready' | 'archived' | 'failed';
}

export class ListVersionsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: VERSION_STATES, description: 'Only versions in this state; archived ones are listed only when asked for' })
  @IsOptional()
  @IsIn(VERSION_STATES)
  state?: VersionState;

  @ApiPropertyOptional({ enum: ['number', '-number', 'createdAt', '-createdAt'], default: '-number' })
  @IsOptional()
  @IsString()
  sort?: string;
}

export class VersionDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 'resnet50' })
  model!: string;

  @ApiProperty({ example: 3, description: 'Gapless per model, never reused' })
  number!: number;

  @ApiProperty({ enum: VERSION_STATES })
  state!: VersionState;

  @ApiProperty()
  description!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: String, nullable: true, example: 'sha256:9f86d0…', description: 'Digest of the canonical file list, set at commit' })
  manifestDigest!: string | null;

  @ApiProperty({ example: 'alice' })
  createdBy!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  committedAt!: string | null;
}

export class VersionPageDto {
  @ApiProperty({ type: [VersionDto] })
  items!: VersionDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

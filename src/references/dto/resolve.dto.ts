import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { VERSION_STATES, VersionState } from '../../versions/model-version.entity';

export class ResolveQuery {
  @ApiProperty({
    description: 'A reference: `prod` or `:prod` (tag), `@3` (number), `@sha256:<digest>`, or the full `project/model:tag` form',
    example: 'vision/resnet50:prod',
  })
  @IsString()
  @MaxLength(512)
  ref!: string;
}

export class ResolvedVersionDto {
  @ApiProperty({ example: 'vision/resnet50@7', description: 'The concrete reference (by number)' })
  reference!: string;

  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 'resnet50' })
  model!: string;

  @ApiProperty({ example: 7 })
  number!: number;

  @ApiProperty({ enum: VERSION_STATES, description: '`ready`, or `archived` when named by number or digest' })
  state!: VersionState;

  @ApiProperty({ type: String, nullable: true, example: 'sha256:9f86d0…' })
  manifestDigest!: string | null;

  @ApiPropertyOptional({ example: 'prod', description: 'The tag the reference named, if any' })
  tag?: string;

  @ApiPropertyOptional({ description: 'Whether that tag is pinned' })
  pinned?: boolean;
}

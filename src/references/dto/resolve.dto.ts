import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { VERSION_STATES, VersionState } from '../../versions/model-version.entity';

export class ResolveQuery {
  @ApiProperty({
    description:
      'A reference: `prod` or `:prod` (tag), `@3` (number), `@sha256:<digest>`, the full `project/model:tag` form, ' +
      'or an endpoint of this project, `project/endpoint` (then `key` picks its route)',
    example: 'vision/resnet50:prod',
  })
  @IsString()
  @MaxLength(512)
  ref!: string;

  @ApiPropertyOptional({
    maxLength: 1024,
    example: 'user-42',
    description:
      'The sticky key (e.g. a user id) when `ref` names an endpoint (`project/endpoint`): the answer is the version the endpoint ' +
      'serves this key, exactly as `…/endpoints/{endpoint}/route?key=` decides (weighted rendezvous hashing). Without it, the ' +
      "endpoint's sticky header; without that, weighted random. Ignored for tags, numbers and digests, which name one version for every key.",
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  key?: string;
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

  @ApiPropertyOptional({ example: 'classifier', description: 'The endpoint the reference named, if any' })
  endpoint?: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'user-42', description: 'With an endpoint: the sticky key the choice was made for (null: weighted random)' })
  key?: string | null;

  @ApiPropertyOptional({ example: 'vision/resnet50:prod', description: "With an endpoint: the route (as stored) that serves this key" })
  route?: string;
}

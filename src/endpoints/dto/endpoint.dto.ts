import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { PageQuery } from '../../common/pagination/list-query.dto';
import { NestedList } from '../../common/validation/nested';
import { VERSION_STATES, VersionState } from '../../versions/model-version.entity';

export const MAX_ROUTES = 16;
export const WEIGHT_TOTAL = 100;

export class RouteInputDto {
  @ApiProperty({
    example: 'resnet50:prod',
    description: 'A version (`resnet50@3`, `resnet50@sha256:…`, fixed) or a tag (`resnet50:prod`, followed live) of a model in this project',
  })
  @IsString()
  @MaxLength(512)
  ref!: string;

  @ApiProperty({ minimum: 0, maximum: 100, example: 90, description: 'Integer percent of traffic; the weights of all routes sum to 100' })
  @IsInt()
  @Min(0)
  @Max(100)
  weight!: number;
}

export class MirrorInputDto {
  @ApiProperty({ example: 'resnet50@8', description: 'The shadow route: gets a copy of `percent`% of requests, answers are discarded' })
  @IsString()
  @MaxLength(512)
  ref!: string;

  @ApiProperty({ minimum: 0, maximum: 100, example: 10 })
  @IsInt()
  @Min(0)
  @Max(100)
  percent!: number;
}

export class PutEndpointDto {
  @ApiPropertyOptional({ maxLength: 4096 })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  description?: string;

  @ApiProperty({ type: [RouteInputDto], minItems: 1, maxItems: MAX_ROUTES })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ROUTES)
  @NestedList(() => RouteInputDto)
  routes!: RouteInputDto[];

  @ApiPropertyOptional({ type: MirrorInputDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => MirrorInputDto)
  mirror?: MirrorInputDto | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'X-User-Id',
    description: 'Request header whose value is the sticky key when `key` is not given to the route lookup',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9-]{1,64}$/, { message: 'stickyHeader must be an HTTP header name (letters, digits and "-", at most 64)' })
  stickyHeader?: string | null;
}

export class EndpointRouteDto {
  @ApiProperty({ example: 'vision/resnet50:prod', description: 'The route target as stored (normalised)' })
  ref!: string;

  @ApiProperty({ example: 90, description: 'Percent of traffic (for the mirror: the percent of requests copied)' })
  weight!: number;

  @ApiProperty({ example: 'resnet50' })
  model!: string;

  @ApiPropertyOptional({ example: 'prod', description: 'Set for a tag route, which follows the tag' })
  tag?: string;

  @ApiProperty({ example: 7, description: 'The version the route serves now' })
  version!: number;

  @ApiProperty({ example: 'vision/resnet50@7' })
  reference!: string;

  @ApiProperty({ enum: VERSION_STATES })
  state!: VersionState;

  @ApiProperty({ type: String, nullable: true })
  manifestDigest!: string | null;
}

export class EndpointDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 'classifier' })
  name!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({ type: [EndpointRouteDto] })
  routes!: EndpointRouteDto[];

  @ApiProperty({ type: EndpointRouteDto, nullable: true })
  mirror!: EndpointRouteDto | null;

  @ApiProperty({ type: String, nullable: true, example: 'X-User-Id' })
  stickyHeader!: string | null;

  @ApiProperty({ description: 'Bumped by every change of the endpoint' })
  generation!: number;

  @ApiProperty()
  createdBy!: string;

  @ApiProperty()
  updatedBy!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

export class EndpointPageDto {
  @ApiProperty({ type: [EndpointDto] })
  items!: EndpointDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ListEndpointsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Only names starting with this' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  prefix?: string;
}

export class RouteQuery {
  @ApiPropertyOptional({ maxLength: 1024, description: 'The sticky key (e.g. a user id); else the sticky header; else weighted random' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  key?: string;
}

export class RouteDecisionDto {
  @ApiProperty({ example: 'classifier' })
  endpoint!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The key the decision was made for (null: weighted random)' })
  key!: string | null;

  @ApiProperty({ type: EndpointRouteDto, description: 'The route this request is served by' })
  route!: EndpointRouteDto;

  @ApiProperty({ type: EndpointRouteDto, nullable: true, description: 'The mirror route, when this request is also shadowed' })
  mirror!: EndpointRouteDto | null;

  @ApiProperty({ description: 'The endpoint generation the decision used' })
  generation!: number;
}

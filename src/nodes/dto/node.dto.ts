import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsLabels } from '../../common/validation/labels';
import { NestedList } from '../../common/validation/nested';
import type { EntryState } from '../assignments';

export const ENTRY_STATES: readonly EntryState[] = ['pending', 'pulling', 'ready', 'evicting', 'failed'];
/** Large enough for any real node cache, small enough to keep one heartbeat cheap. */
export const MAX_ENTRIES = 10_000;
export const MAX_DEMANDS = 1_000;
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

export class VersionRefDto {
  @ApiProperty({ example: 'vision' })
  @IsString()
  @MaxLength(63)
  project!: string;

  @ApiProperty({ example: 'resnet50' })
  @IsString()
  @MaxLength(128)
  model!: string;

  @ApiProperty({ example: 3 })
  @IsInt()
  @Min(1)
  @Max(2_147_483_647)
  version!: number;
}

export class CacheEntryDto extends VersionRefDto {
  @ApiProperty({ enum: ENTRY_STATES })
  @IsIn(ENTRY_STATES)
  state!: EntryState;

  @ApiProperty({ description: 'Bytes on disk so far' })
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  bytesDone!: number;

  @ApiProperty({ description: 'Bytes of the whole version' })
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  bytesTotal!: number;
}

export class DemandDto extends VersionRefDto {
  @ApiProperty({ enum: ['request', 'lease'], description: 'A pod asked for it (request) or holds it (lease)' })
  @IsIn(['request', 'lease'])
  reason!: 'request' | 'lease';
}

export class InventoryDeltaDto {
  @ApiProperty({ description: 'The `sequence` of the last heartbeat the registry acknowledged: the changes are relative to that inventory' })
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  since!: number;

  @ApiProperty({ type: [CacheEntryDto], description: 'Entries added or changed since then' })
  @ArrayMaxSize(MAX_ENTRIES)
  @NestedList(() => CacheEntryDto)
  upserts!: CacheEntryDto[];

  @ApiProperty({ type: [VersionRefDto], description: 'Versions the node no longer holds' })
  @ArrayMaxSize(MAX_ENTRIES)
  @NestedList(() => VersionRefDto)
  removals!: VersionRefDto[];
}

export class HeartbeatDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { gpu: 'a100' } })
  @IsLabels()
  labels!: Record<string, string>;

  @ApiProperty({ description: 'Size of the filesystem holding the cache' })
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  capacityBytes!: number;

  @ApiProperty({ description: 'Bytes the agent may use' })
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  budgetBytes!: number;

  @ApiProperty({ description: 'Bytes the cache uses now' })
  @IsInt()
  @Min(0)
  @Max(MAX_BYTES)
  usedBytes!: number;

  @ApiPropertyOptional({ example: '0.1.0' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  agentVersion?: string;

  @ApiPropertyOptional({ description: "The agent's heartbeat counter, increasing; required with `delta`, acknowledged in the reply" })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BYTES)
  sequence?: number;

  @ApiPropertyOptional({ type: [CacheEntryDto], description: `The whole inventory (at most ${MAX_ENTRIES}); exactly one of entries and delta` })
  @IsOptional()
  @ArrayMaxSize(MAX_ENTRIES)
  @NestedList(() => CacheEntryDto)
  entries?: CacheEntryDto[];

  @ApiPropertyOptional({ type: InventoryDeltaDto, description: 'Only what changed since the acknowledged heartbeat `since`; exactly one of entries and delta' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => InventoryDeltaDto)
  delta?: InventoryDeltaDto;

  @ApiProperty({ type: [DemandDto], description: `Versions pods on the node asked for or hold (at most ${MAX_DEMANDS})` })
  @ArrayMaxSize(MAX_DEMANDS)
  @NestedList(() => DemandDto)
  demands!: DemandDto[];
}

export class AssignmentDto {
  @ApiProperty() project!: string;
  @ApiProperty() model!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ example: `sha256:${'0'.repeat(64)}`, description: 'Verify the fetched file list against this' })
  manifestDigest!: string;
  @ApiProperty({ type: [String], example: ['warmup:7d0c…', 'lease'] })
  reasons!: string[];
  @ApiProperty({ description: 'Where to fetch the file list (GET, with the agent token)' })
  manifestUrl!: string;
}

export class RejectedDemandDto extends VersionRefDto {
  @ApiProperty({ example: 'version_not_found' })
  code!: string;
  @ApiProperty()
  detail!: string;
}

export class HeartbeatReplyDto {
  @ApiProperty() node!: string;
  @ApiProperty({ type: [AssignmentDto] }) assignments!: AssignmentDto[];
  @ApiProperty({ type: [RejectedDemandDto], description: 'Demands the registry cannot serve (unknown or unready versions)' })
  rejected!: RejectedDemandDto[];
  @ApiProperty({ description: 'Heartbeats further apart than this make the node not ready' })
  readyTimeoutSeconds!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'The sequence whose inventory the registry now holds: send deltas since this one' })
  sequence!: number | null;
  @ApiProperty({ description: 'The delta did not start from the inventory the registry holds (a lost reply, a forgotten node): send the whole inventory next' })
  resync!: boolean;
}

export class NodeEntryDto extends CacheEntryDto {
  @ApiProperty() updatedAt!: string;
}

export class NodeDto {
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Whether the agent reported within NODE_READY_TIMEOUT_SECONDS' }) ready!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty() capacityBytes!: number;
  @ApiProperty() budgetBytes!: number;
  @ApiProperty() usedBytes!: number;
  @ApiProperty() agentVersion!: string;
  @ApiProperty({ description: 'The principal whose token reported last' }) reportedBy!: string;
  @ApiProperty() firstSeenAt!: string;
  @ApiProperty() lastHeartbeatAt!: string;
  @ApiProperty({ type: [DemandDto] }) demands!: DemandDto[];
  @ApiPropertyOptional({ type: [NodeEntryDto], description: 'Only when showing one node' }) entries?: NodeEntryDto[];
}

export const DEFAULT_NODE_PAGE = 500;
export const MAX_NODE_PAGE = 1000;

export class NodeListDto {
  @ApiProperty({ type: [NodeDto] }) items!: NodeDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor!: string | null;
}

/** Paging and filters shared by the node list and the locations of a version. */
export class NodePageQuery {
  @ApiPropertyOptional({
    description: 'Label selector: `key=value` (must match) or `key` (must exist); repeat or comma-separate to AND them',
    type: [String],
    example: ['gpu=a100'],
  })
  @IsOptional()
  @IsString({ each: true })
  label?: string | string[];

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_NODE_PAGE, default: DEFAULT_NODE_PAGE, description: 'Nodes per page, by name' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_NODE_PAGE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cursor?: string;
}

export class ListNodesQuery extends NodePageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only ready (or not ready) nodes' })
  @IsOptional()
  @IsIn(['true', 'false'])
  ready?: 'true' | 'false';
}

export class LocationDto {
  @ApiProperty() node!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty() bytes!: number;
  @ApiProperty() lastHeartbeatAt!: string;
}

export class LocationListDto {
  @ApiProperty() project!: string;
  @ApiProperty() model!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ type: [LocationDto], description: 'Ready nodes holding the version ready, by name' }) items!: LocationDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last page' })
  nextCursor!: string | null;
}

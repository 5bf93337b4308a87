import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { IsLabels } from '../../common/validation/labels';

export class NodeSelectorDto {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { gpu: 'a100' }, description: 'Every pair must match; empty selects every node' })
  @IsLabels()
  matchLabels!: Record<string, string>;
}

export class CreateWarmupDto {
  @ApiProperty({ example: 'resnet50' })
  @IsString()
  @MaxLength(128)
  model!: string;

  @ApiProperty({ example: 'prod', description: 'A tag (followed live: a move re-targets the warm-up), a version number or a manifest digest' })
  @IsString()
  @MaxLength(200)
  ref!: string;

  @ApiProperty({ type: NodeSelectorDto })
  @IsObject()
  @ValidateNested()
  @Type(() => NodeSelectorDto)
  selector!: NodeSelectorDto;

  @ApiPropertyOptional({ minimum: 1, maximum: 100_000, description: 'Hold the version on at most this many matching nodes' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxNodes?: number;
}

export class WarmupNodeDto {
  @ApiProperty() node!: string;
  @ApiProperty({ enum: ['pending', 'pulling', 'ready', 'evicting', 'failed'] }) state!: string;
  @ApiProperty() bytesDone!: number;
  @ApiProperty() bytesTotal!: number;
}

export class WarmupDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() project!: string;
  @ApiProperty() model!: string;
  @ApiProperty() ref!: string;
  @ApiProperty({ type: NodeSelectorDto }) selector!: NodeSelectorDto;
  @ApiProperty({ type: Number, nullable: true }) maxNodes!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The version the reference names now' }) version!: number | null;
  @ApiProperty({ type: String, nullable: true }) manifestDigest!: string | null;
  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'With maxNodes: the nodes the warm-up is placed on (kept until one leaves or stops matching); null without maxNodes',
  })
  placedNodes!: string[] | null;
  @ApiProperty({ type: [WarmupNodeDto], description: 'Ready nodes matching the selector that report the version' }) nodes!: WarmupNodeDto[];
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
}

export class WarmupListDto {
  @ApiProperty({ type: [WarmupDto] }) items!: WarmupDto[];
}

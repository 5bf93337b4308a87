import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Matches, Min } from 'class-validator';

export class CreateUploadDto {
  @ApiProperty({ example: 'weights/model.safetensors', description: 'Relative, normalised path inside the version' })
  @IsString()
  path!: string;

  @ApiProperty({ example: 1073741824, description: 'The exact file size in bytes' })
  @IsInt()
  @Min(0)
  size!: number;

  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', description: 'sha256 of the whole file, hex' })
  @Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsString()
  @Matches(/^[0-9a-f]{64}$/, { message: 'sha256 must be 64 hex digits' })
  sha256!: string;
}

export class UploadPartDto {
  @ApiProperty({ example: 3 })
  number!: number;

  @ApiProperty({ example: 16777216 })
  size!: number;

  @ApiProperty({ type: String, nullable: true, description: 'sha256 of the part, when it was sent with X-Part-Sha256 (and checked)' })
  sha256!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  receivedAt!: string;
}

export const UPLOAD_STATES = ['open', 'completing', 'complete', 'failed', 'aborted', 'expired'] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

export class UploadDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ type: String, nullable: true, example: 'resnet50', description: 'Null once the version was deleted' })
  model!: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 3 })
  version!: number | null;

  @ApiProperty()
  path!: string;

  @ApiProperty()
  size!: number;

  @ApiProperty()
  sha256!: string;

  @ApiProperty({ enum: UPLOAD_STATES, description: '`complete` right away when the project already holds these bytes' })
  state!: UploadState;

  @ApiProperty({ description: 'True when the file was attached from an existing blob with no bytes sent' })
  deduplicated!: boolean;

  @ApiProperty({ description: 'Every part but the last has exactly this many bytes', example: 16777216 })
  partSize!: number;

  @ApiProperty({ example: 64 })
  partCount!: number;

  @ApiProperty({ type: [UploadPartDto], description: 'Parts received so far, by number' })
  parts!: UploadPartDto[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why a failed upload failed' })
  failure!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'An idle upload expires at this time; each part moves it on' })
  expiresAt!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Min, ValidateIf } from 'class-validator';

export class ProjectStorageDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 107374182400, description: 'The quota in force in bytes; 0 means unlimited' })
  quotaBytes!: number;

  @ApiProperty({ enum: ['project', 'default'], description: '`default`: PROJECT_STORAGE_QUOTA applies' })
  quotaSource!: 'project' | 'default';

  @ApiProperty({ description: 'Bytes of the blobs the project holds (each digest once)' })
  usedBytes!: number;

  @ApiProperty({ description: 'Bytes reserved by uploads in progress' })
  pendingUploadBytes!: number;
}

export class PutProjectStorageDto {
  @ApiProperty({ type: Number, nullable: true, example: 107374182400, description: 'Bytes; 0 is unlimited, null falls back to PROJECT_STORAGE_QUOTA' })
  @ValidateIf((_, value) => value !== null)
  @IsInt()
  @Min(0)
  quotaBytes!: number | null;
}

import { ApiProperty } from '@nestjs/swagger';

export class FileDto {
  @ApiProperty({ example: 'weights/model.safetensors' })
  path!: string;

  @ApiProperty({ example: 1073741824 })
  size!: number;

  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' })
  sha256!: string;
}

export class FileListDto {
  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty({ example: 'resnet50' })
  model!: string;

  @ApiProperty({ example: 3 })
  version!: number;

  @ApiProperty({ example: 'ready' })
  state!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Digest of this file list, set when the version is committed' })
  manifestDigest!: string | null;

  @ApiProperty({ type: [FileDto], description: 'Sorted by path' })
  items!: FileDto[];
}

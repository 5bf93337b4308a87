import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { PlatformAdmin } from '../auth/access.decorator';
import { GcReport, GcService } from './gc.service';

class GcReportDto implements GcReport {
  @ApiProperty() expiredUploads!: number;
  @ApiProperty() deletedUploadRows!: number;
  @ApiProperty() deletedBlobs!: number;
  @ApiProperty() abortedOrphanMultiparts!: number;
  @ApiProperty() deletedOrphanObjects!: number;
}

@ApiTags('admin')
@Controller('api/v1/admin/gc')
export class GcController {
  constructor(@Inject(GcService) private readonly gc: GcService) {}

  @Post()
  @HttpCode(200)
  @PlatformAdmin()
  @ApiOperation({ summary: 'Run garbage collection now (it also runs every GC_INTERVAL_SECONDS)' })
  @ApiOkResponse({ type: GcReportDto })
  run(): Promise<GcReport> {
    return this.gc.run();
  }
}

import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentActor, PlatformAdmin } from '../auth/access.decorator';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { Actor } from '../auth/auth-context';
import { GcReport, GcService } from './gc.service';

class GcReportDto implements GcReport {
  @ApiProperty() expiredUploads!: number;
  @ApiProperty() deletedUploadRows!: number;
  @ApiProperty() deletedBlobs!: number;
  @ApiProperty() abortedOrphanMultiparts!: number;
  @ApiProperty() deletedOrphanObjects!: number;
  @ApiProperty({ description: 'Temporary files of writes that never finished (filesystem driver)' }) deletedTemporaryFiles!: number;
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
  @ApiProblems('storage_unavailable')
  run(@CurrentActor() actor: Actor): Promise<GcReport> {
    return this.gc.runRequested(actor);
  }
}

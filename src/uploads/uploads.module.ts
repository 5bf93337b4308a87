import { Module } from '@nestjs/common';
import { UPLOAD_OWNERS } from '../auth/upload-owners';
import { BlobsModule } from '../blobs/blobs.module';
import { ModelsModule } from '../models/models.module';
import { QuotaModule } from '../quota/quota.module';
import { PartReceiver } from './part-receiver.service';
import { UploadCompletion } from './upload-completion.service';
import { UploadDigests } from './upload-digests';
import { UploadSessions } from './upload-sessions.service';
import { UploadsController } from './uploads.controller';

@Module({
  imports: [ModelsModule, BlobsModule, QuotaModule],
  controllers: [UploadsController],
  providers: [UploadDigests, UploadSessions, PartReceiver, UploadCompletion, { provide: UPLOAD_OWNERS, useExisting: UploadSessions }],
})
export class UploadsModule {}

import { Module } from '@nestjs/common';
import { QuotaModule } from '../quota/quota.module';
import { BlobsService } from './blobs.service';

@Module({ imports: [QuotaModule], providers: [BlobsService], exports: [BlobsService] })
export class BlobsModule {}

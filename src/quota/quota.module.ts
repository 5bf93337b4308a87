import { Module } from '@nestjs/common';
import { QuotaController } from './quota.controller';
import { QuotaService } from './quota.service';
import { StorageQuota } from './storage-quota.service';
import { StorageUsageController } from './storage-usage.controller';

/** A project's quotas: set by a platform admin, storage enforced here, use reported here. */
@Module({ controllers: [QuotaController, StorageUsageController], providers: [QuotaService, StorageQuota], exports: [StorageQuota] })
export class QuotaModule {}

import { Global, Inject, Module, OnModuleInit } from '@nestjs/common';
import * as path from 'node:path';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { ARTIFACT_STORE, ArtifactStore } from './artifact-store';
import { FsArtifactStore } from './fs.driver';
import { S3ArtifactStore } from './s3.driver';

/** S3 when S3_ENDPOINT is set, otherwise the local filesystem under DATA_DIR/blobs. */
export function createArtifactStore(config: WharfConfig): ArtifactStore {
  if (config.S3_ENDPOINT) {
    return new S3ArtifactStore({
      endpoint: config.S3_ENDPOINT,
      bucket: config.S3_BUCKET,
      accessKey: config.S3_ACCESS_KEY!,
      secretKey: config.S3_SECRET_KEY!,
      region: config.S3_REGION,
    });
  }
  return new FsArtifactStore(path.join(config.dataDir, 'blobs'));
}

@Global()
@Module({
  providers: [{ provide: ARTIFACT_STORE, useFactory: createArtifactStore, inject: [WHARF_CONFIG] }],
  exports: [ARTIFACT_STORE],
})
export class StorageModule implements OnModuleInit {
  constructor(@Inject(ARTIFACT_STORE) private readonly store: ArtifactStore) {}

  async onModuleInit(): Promise<void> {
    await this.store.init();
  }
}

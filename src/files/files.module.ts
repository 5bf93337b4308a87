import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { BlobsService } from './blobs.service';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';
import { StorageController } from './storage.controller';

@Module({ imports: [ModelsModule], controllers: [FilesController, StorageController], providers: [FilesService, BlobsService], exports: [BlobsService] })
export class FilesModule {}

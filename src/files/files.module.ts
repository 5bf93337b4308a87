import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { BlobsService } from './blobs.service';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';

@Module({ imports: [ModelsModule], controllers: [FilesController], providers: [FilesService, BlobsService], exports: [BlobsService] })
export class FilesModule {}

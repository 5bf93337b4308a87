import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { ModelsModule } from '../models/models.module';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';

@Module({ imports: [ModelsModule, BlobsModule], controllers: [FilesController], providers: [FilesService] })
export class FilesModule {}

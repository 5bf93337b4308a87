import { Controller, Get, Head, Headers, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { RateLimitClass } from '../ratelimit/rate-limit.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ErrorCode } from '../common/errors/error-codes';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { FileDto, FileListDto } from './dto/file.dto';
import { respondWithFile } from './download-response';
import { FilesService } from './files.service';
import { ApiPathParams } from '../common/http/api-path-params';

/** What a download (GET or HEAD) can be refused with. */
const DOWNLOAD_PROBLEMS: ErrorCode[] = ['validation_failed', 'invalid_name', 'invalid_path', 'invalid_reference', 'model_not_found', 'tag_not_found', 'version_not_found', 'file_not_found', 'range_not_satisfiable'];

/** Express 5 hands a `*path` wildcard over as its decoded segments. */
function joinPath(raw: string | string[]): string {
  return Array.isArray(raw) ? raw.join('/') : raw;
}

@ApiTags('files')
@Controller('api/v1/projects/:project/models/:model/versions')
@ApiPathParams('project', 'model')
export class FilesController {
  constructor(@Inject(FilesService) private readonly files: FilesService) {}

  @Get(':ref/files')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'The file list (manifest) of a version' })
  @ApiOkResponse({ type: FileListDto })
  @ApiProblems('validation_failed', 'invalid_name', 'model_not_found', 'version_not_found')
  list(@CurrentProject() project: ProjectContext, @Param('model') model: string, @Param('ref') ref: string): Promise<FileListDto> {
    return this.files.list(project, model, ref);
  }

  @Post(':version/files')
  @ProjectAccess('editor')
  @ApiOperation({
    summary: 'Upload files to a draft as multipart/form-data (each file part\'s filename is its path)',
    description: 'Streamed to the store and hashed on the fly; for large files use upload sessions.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @ApiCreatedResponse({ type: [FileDto] })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'invalid_path',
    'model_not_found',
    'version_not_found',
    'version_immutable',
    'file_too_large',
    'storage_quota_exceeded',
    'unsupported_media_type',
  )
  @ApiProblems('storage_unavailable')
  upload(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('version') version: string,
    @Req() request: Request,
  ): Promise<FileDto[]> {
    return this.files.formUpload(project, actor, model, version, request.headers, request);
  }

  // HEAD first: Express would otherwise answer HEAD with the GET route.
  @Head(':ref/files/*path')
  @ProjectAccess('viewer')
  @RateLimitClass('download')
  @ApiPathParams('path')
  @ApiOperation({ summary: 'The headers of a download: size, ETag, Accept-Ranges' })
  @ApiResponse({ status: 200, description: 'The file exists' })
  @ApiProblems(...DOWNLOAD_PROBLEMS)
  @ApiProblems('file_content_missing', 'storage_unavailable')
  async head(
    @CurrentProject() project: ProjectContext,
    @Param('model') model: string,
    @Param('ref') ref: string,
    @Param('path') path: string | string[],
    @Headers('range') range: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    await respondWithFile(response, { method: 'HEAD', range, ifNoneMatch }, await this.files.findFile(project, model, ref, joinPath(path)), this.files);
  }

  @Get(':ref/files/*path')
  @ProjectAccess('viewer')
  @RateLimitClass('download')
  @ApiPathParams('path')
  @ApiOperation({ summary: 'Download a file (Range, ETag = sha256, If-None-Match; may redirect to a presigned S3 URL)' })
  @ApiProduces('application/octet-stream')
  @ApiResponse({ status: 200, description: 'The file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } })
  @ApiResponse({ status: 206, description: 'The requested range', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } })
  @ApiResponse({ status: 302, description: 'Redirect to a presigned URL (S3_PRESIGNED_DOWNLOADS)' })
  @ApiResponse({ status: 304, description: 'If-None-Match matched' })
  @ApiProblems(...DOWNLOAD_PROBLEMS)
  @ApiProblems('file_content_missing', 'storage_unavailable')
  async download(
    @CurrentProject() project: ProjectContext,
    @Param('model') model: string,
    @Param('ref') ref: string,
    @Param('path') path: string | string[],
    @Headers('range') range: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    await respondWithFile(response, { method: 'GET', range, ifNoneMatch }, await this.files.findFile(project, model, ref, joinPath(path)), this.files);
  }
}

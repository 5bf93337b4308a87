import { RateLimitClass } from '../ratelimit/rate-limit.decorator';
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentActor, CurrentProject, ProjectAccess, UploadAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { CreateUploadDto, UploadDto, UploadPartDto } from './dto/upload.dto';
import { parseContentLength } from '../common/http/content-length';
import { PartReceiver } from './part-receiver.service';
import { UploadCompletion } from './upload-completion.service';
import { UploadSessions } from './upload-sessions.service';

/** The header a part may carry with its own sha256 (hex), checked while the part streams. */
export const PART_SHA256_HEADER = 'x-part-sha256';

@ApiTags('uploads')
@Controller('api/v1')
export class UploadsController {
  constructor(
    @Inject(UploadSessions) private readonly sessions: UploadSessions,
    @Inject(PartReceiver) private readonly parts: PartReceiver,
    @Inject(UploadCompletion) private readonly completion: UploadCompletion,
  ) {}

  @Post('projects/:project/models/:model/versions/:version/uploads')
  @ProjectAccess('editor')
  @ApiOperation({
    summary: 'Start an upload session for one file of a draft',
    description:
      'The server picks the part size (S3 rules: every part but the last has exactly `partSize` bytes, ' +
      '5 MiB–5 GiB, at most 10,000 parts). If the project already holds a blob with this sha256 the file ' +
      'is attached at once (`state: complete`, `deduplicated: true`) and no bytes need to be sent. ' +
      'Creating the same file again answers the session already in progress.',
  })
  @ApiCreatedResponse({ type: UploadDto })
  @ApiProblems(
    'validation_failed',
    'invalid_name',
    'invalid_path',
    'model_not_found',
    'version_not_found',
    'version_immutable',
    'upload_conflict',
    'file_digest_mismatch',
    'file_too_large',
    'storage_quota_exceeded',
  )
  @ApiProblems('storage_unavailable')
  create(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('model') model: string,
    @Param('version') version: string,
    @Body() body: CreateUploadDto,
  ): Promise<UploadDto> {
    return this.sessions.create(project, actor, model, version, body);
  }

  @Get('uploads/:id')
  @UploadAccess('viewer')
  @ApiOperation({ summary: 'Show an upload and the parts received so far (to resume after a crash)' })
  @ApiOkResponse({ type: UploadDto })
  get(@CurrentProject() project: ProjectContext, @Param('id') id: string): Promise<UploadDto> {
    return this.sessions.get(project, id);
  }

  @Put('uploads/:id/parts/:number')
  @UploadAccess('editor')
  @RateLimitClass('upload')
  @ApiOperation({
    summary: 'Send one part (any order, any replica; sending a part again replaces it); audited as `upload.part`',
    description: 'The body is the raw bytes with an exact Content-Length. An optional `X-Part-Sha256` header is checked while the part streams; a part that fails it is not kept.',
  })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiHeader({ name: 'X-Part-Sha256', required: false, description: 'sha256 of this part, hex' })
  @ApiOkResponse({ type: UploadPartDto })
  @ApiProblems('validation_failed', 'length_required', 'part_size_mismatch', 'part_digest_mismatch', 'upload_not_open', 'unsupported_media_type')
  @ApiProblems('storage_unavailable')
  putPart(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('id') id: string,
    @Param('number') number: string,
    @Req() request: Request,
    @Headers(PART_SHA256_HEADER) sha256: string | undefined,
  ): Promise<UploadPartDto> {
    const contentLength = parseContentLength(request.headers['content-length']);
    return this.parts.putPart(project, actor, id, number, { stream: request, contentLength, sha256 });
  }

  @Post('uploads/:id/complete')
  @HttpCode(200)
  @UploadAccess('editor')
  @ApiOperation({
    summary: 'Finish an upload: every part, the total size and the sha256 are checked before the file becomes visible',
  })
  @ApiOkResponse({ type: UploadDto })
  @ApiProblems('upload_not_open', 'upload_incomplete', 'file_digest_mismatch', 'version_immutable', 'version_not_found', 'storage_quota_exceeded')
  @ApiProblems('storage_unavailable')
  complete(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('id') id: string): Promise<UploadDto> {
    return this.completion.complete(project, actor, id);
  }

  @Delete('uploads/:id')
  @HttpCode(204)
  @UploadAccess('editor')
  @ApiOperation({ summary: 'Abort an upload; its parts are deleted' })
  @ApiNoContentResponse({ description: 'Aborted' })
  @ApiProblems('upload_not_open')
  abort(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    return this.sessions.abort(project, actor, id);
  }
}

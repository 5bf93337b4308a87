import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { Request } from 'express';
import type { OpenAPIObject } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { ERROR_CODES } from '../errors/error-codes';
import { WharfError } from '../errors/wharf-error';

/** The media types the JSON body parser reads: `application/json` and any `+json` type. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/**
 * A route that takes a `@Body()` takes JSON, and a body of any other type is refused with 415.
 * The JSON parser leaves other types unread, so without this a form-encoded or text/plain body
 * reached the handler as `{}` and was applied as "every field left out" (a quota set to
 * unlimited, an empty version created). Routes without `@Body()` keep their own rules: those
 * that stream a body (form uploads, part PUTs) check their types themselves, and those that take
 * none ignore it. A request with no body at all passes, as before.
 *
 * An interceptor rather than a middleware because it must know the route, and rather than a
 * guard so that authentication and authorization answer first.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  private readonly takesBody = new WeakMap<object, boolean>();

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() === 'http' && this.handlerTakesBody(context)) {
      const request = context.switchToHttp().getRequest<Request>();
      // `is` answers null when the request has no body, false when its type is not one of these.
      if (request.is(JSON_MEDIA_TYPES) === false && !(await isEmptyBody(request))) {
        const type = request.headers['content-type'];
        throw new WharfError(
          'unsupported_media_type',
          `This route takes a JSON body (Content-Type: application/json), not ${type ? JSON.stringify(type) : 'a body without a Content-Type'}`,
        );
      }
    }
    return next.handle();
  }

  private handlerTakesBody(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let known = this.takesBody.get(handler);
    if (known === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, unknown>;
      known = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
      this.takesBody.set(handler, known);
    }
    return known;
  }
}

/**
 * Whether a body turns out to be empty, which `is` does not tell from a body: `Content-Length: 0`,
 * or what node:http (and so many clients) sends for a POST without a body, `Transfer-Encoding:
 * chunked` with no chunks. Waits for the first chunk or the end; a body with bytes is refused unread.
 */
function isEmptyBody(request: Request): Promise<boolean> {
  const length = request.headers['content-length'];
  if (length !== undefined) return Promise.resolve(Number(length) === 0);
  if (request.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (empty: boolean) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.pause();
      resolve(empty);
    };
    const onData = (chunk: Buffer) => {
      if (chunk.length > 0) done(false);
    };
    const onEnd = () => done(true);
    const onError = () => done(false);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}

/**
 * Adds the 415 this interceptor answers to every operation taking a JSON body, so the OpenAPI
 * document lists it without each route repeating it (merged into a 415 the route documents).
 */
export function documentJsonBodies(document: OpenAPIObject): void {
  const line = `\`unsupported_media_type\`: ${ERROR_CODES.unsupported_media_type.title}`;
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations) as { requestBody?: { content?: Record<string, unknown> }; responses?: Record<string, { description?: string; content?: unknown }> }[]) {
      if (!operation?.requestBody?.content?.['application/json'] || !operation.responses) continue;
      const existing = operation.responses['415'];
      if (existing?.description?.includes('unsupported_media_type')) continue;
      operation.responses['415'] = {
        description: existing?.description ? `${existing.description}; ${line}` : line,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
      };
    }
  }
}

import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ErrorCode } from './error-codes';
import { PROBLEM_CONTENT_TYPE, ProblemDocument, problemDocument } from './problem';
import { DependencyUnavailableError, UNAVAILABLE_RETRY_AFTER_SECONDS } from './unavailable';
import { WharfError } from './wharf-error';

/** Errors raised by Express' body parser carry a `type` like `entity.too.large`. */
interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  /** Set on zlib's errors, which the body parser passes on for a body that does not decode. */
  errno?: number;
}

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'route_not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'service_unavailable',
};

/**
 * Turns every error into `application/problem+json`. Only WharfError and Nest's own HTTP
 * exceptions reach the client with their message; anything else is logged and answered as a
 * bare 500 so that no stack trace or driver message ever leaks.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<Request & { id?: string }>();
    const response = context.getResponse<Response>();
    const problem = this.toProblem(exception, request);
    problem.instance = request.originalUrl?.split('?')[0];
    if (request.id) problem.requestId = String(request.id);
    if (response.headersSent) {
      // A streamed response failed midway: the status line is gone, so cut the connection.
      response.destroy();
      return;
    }
    // Every 503 is a passing state (an outage, a hot tag): say when to come back.
    if (problem.status === 503) response.setHeader('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, request: Request): ProblemDocument {
    if (exception instanceof WharfError) {
      return problemDocument(exception.code, exception.detail, exception.extensions);
    }
    if (exception instanceof DependencyUnavailableError) {
      // The cause goes to the log only: its message names hosts, ports and driver internals.
      this.logger.warn(`${exception.code}: ${exception.cause instanceof Error ? exception.cause.message : String(exception.cause)}`);
      return problemDocument(exception.code, exception.detail, { retryAfter: UNAVAILABLE_RETRY_AFTER_SECONDS });
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_STATUS_CODES[status];
      if (code) {
        const detail =
          status === 404
            ? `No route ${request.method} ${request.originalUrl?.split('?')[0]}`
            : this.httpExceptionMessage(exception);
        return problemDocument(code, detail);
      }
    }
    const parserError = exception as BodyParserError;
    // The body parser marks the errors that are the client's (`expose`); a body that does not
    // decode (bad gzip, deflate or br) comes with zlib's error and no `type`.
    const fromParser = parserError && (typeof parserError.type === 'string' || typeof parserError.errno === 'number');
    if (fromParser && parserError.expose && typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      if (parserError.type === 'entity.too.large' || parserError.status === 413) {
        return problemDocument('payload_too_large', 'The request body is larger than allowed');
      }
      if (parserError.type === 'entity.parse.failed') {
        return problemDocument('validation_failed', 'The request body is not valid JSON');
      }
      if (parserError.status === 415) {
        return problemDocument('unsupported_media_type', `The request body's charset or Content-Encoding is not supported (${parserError.type ?? 'unsupported'})`);
      }
      if (parserError.type === undefined && request.headers['content-encoding']) {
        return problemDocument('validation_failed', `The request body does not decode as Content-Encoding ${JSON.stringify(request.headers['content-encoding'])}`);
      }
      return problemDocument('validation_failed', `The request body could not be read (${parserError.type ?? 'unreadable'})`);
    }
    this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    return problemDocument('internal_error', 'The server could not complete the request; see the server log for this request id');
  }

  private httpExceptionMessage(exception: HttpException): string {
    const body = exception.getResponse();
    if (typeof body === 'string') return body;
    const message = (body as { message?: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    return typeof message === 'string' ? message : exception.message;
  }
}

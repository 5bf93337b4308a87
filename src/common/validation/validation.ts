import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { DECORATORS } from '@nestjs/swagger';
import { FieldError, WharfError } from '../errors/wharf-error';
import { unsafeInputProblems } from './safe-input';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      result.push({ field, message: message.replace(/^property (\S+) should not exist$/, 'unknown field') });
    }
    if (error.children?.length) result.push(...flatten(error.children, field));
  }
  return result;
}

function validationFailed(fieldErrors: FieldError[]): WharfError {
  const summary = fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return new WharfError('validation_failed', summary || 'The request is not valid', { errors: fieldErrors });
}

/**
 * `null` is a value only where a DTO documents the field as nullable (a quota without a limit,
 * an endpoint without a mirror). class-validator's `@IsOptional()` lets null through like an
 * absent field, which would reach a NOT NULL column as a 500; reading the OpenAPI metadata keeps
 * the rule and the documentation one thing.
 */
function unexpectedNulls(value: unknown, at: string, problems: FieldError[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => unexpectedNulls(item, `${at}.${index}`, problems));
    return;
  }
  // Only DTO instances carry rules; free-form objects (metadata, labels) are left as sent.
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype === null || prototype === Object.prototype) return;
  for (const [key, item] of Object.entries(value)) {
    const field = at ? `${at}.${key}` : key;
    if (item === null) {
      const documented = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, prototype, key) as { nullable?: boolean } | undefined;
      if (!documented?.nullable) problems.push({ field, message: 'must not be null (leave the field out instead)' });
    } else {
      unexpectedNulls(item, field, problems);
    }
  }
}

/**
 * Fields named like members of every object (`constructor`, `toString`, `hasOwnProperty`…) are
 * dropped by class-transformer and so pass the unknown-field rule unseen: name them as unknown.
 */
function inheritedKeys(value: unknown, metadata: ArgumentMetadata): FieldError[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof metadata.metatype !== 'function') return [];
  return Object.keys(value)
    .filter((key) => key in Object.prototype)
    .map((key) => ({ field: key, message: 'unknown field' }));
}

/**
 * The global pipe: strips nothing silently. Unknown fields are refused (a typo in a field name
 * must not pass unnoticed), every bad field is named in `errors`. Before and after the DTO rules
 * it applies the rules every input shares (safe-input.ts, and null only where documented), for
 * every body, query and path parameter, typed or not.
 */
class WharfValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom decorators hand over what the server derived (the principal, the project), not input.
    if (metadata.type === 'custom') return super.transform(value, metadata);
    const field = metadata.type === 'param' || (metadata.type === 'query' && metadata.data) ? metadata.data ?? '' : '';
    const raw = [...unsafeInputProblems(value, field), ...inheritedKeys(value, metadata)];
    if (raw.length) throw validationFailed(raw);
    const transformed: unknown = await super.transform(value, metadata);
    const problems = unsafeInputProblems(transformed, field);
    unexpectedNulls(transformed, field, problems);
    if (problems.length) throw validationFailed(problems);
    return transformed;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new WharfValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => validationFailed(flatten(errors)),
  });
}

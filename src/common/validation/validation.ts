import { ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, WharfError } from '../errors/wharf-error';

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

/**
 * The global pipe: strips nothing silently. Unknown fields are refused (a typo in a field name
 * must not pass unnoticed), every bad field is named in `errors`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const fieldErrors = flatten(errors);
      const summary = fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; ');
      return new WharfError('validation_failed', summary || 'The request is not valid', { errors: fieldErrors });
    },
  });
}

import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsObject, ValidateNested } from 'class-validator';

/**
 * A list of DTOs in a body. `@ValidateNested({ each: true })` alone lets an item that is itself
 * an array through (`"entries": [[]]` validates as zero nested items), and the service then reads
 * fields of an array: every item must be an object.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function NestedList(type: () => Function): PropertyDecorator {
  return applyDecorators(
    IsArray(),
    IsObject({ each: true, message: ({ property }) => `each item of ${property} must be an object` }),
    ValidateNested({ each: true }),
    Type(type),
  );
}

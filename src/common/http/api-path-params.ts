import { applyDecorators } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

/** What each path parameter of the API names, for OpenAPI. */
const PATH_PARAMETERS: Record<string, { description: string; example?: string }> = {
  project: { description: 'Project name (a DNS-1123 label)', example: 'vision' },
  model: { description: 'Model name', example: 'resnet50' },
  version: { description: 'Version number', example: '3' },
  ref: { description: 'A version: its number (`3`), a tag (`prod`) or a manifest digest (`sha256:…`)', example: 'prod' },
  path: { description: 'File path inside the version', example: 'weights/model.safetensors' },
  tag: { description: 'Tag name', example: 'prod' },
  endpoint: { description: 'Endpoint name', example: 'classifier' },
  principal: { description: 'Principal name', example: 'alice' },
  node: { description: 'Kubernetes node name', example: 'gpu-node-1' },
  number: { description: 'Part number, from 1', example: '1' },
  id: { description: 'Identifier (uuid)' },
};

/**
 * Declares path parameters in OpenAPI for every route it decorates (a controller: each of its
 * routes). Swagger only sees parameters read with `@Param`; a `:project` read by the access
 * guard, or a segment a handler does not need, would otherwise go undeclared.
 */
export function ApiPathParams(...names: string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...names.map((name) => ApiParam({ name, required: true, type: String, ...(PATH_PARAMETERS[name] ?? { description: name }) })),
  );
}

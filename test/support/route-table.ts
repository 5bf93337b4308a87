import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { ACCESS_METADATA, AccessRule } from '../../src/auth/access.decorator';

export interface RouteEntry {
  method: string;
  /** Full path template, e.g. `/api/v1/projects/:project/models`. */
  path: string;
  controller: string;
  handler: string;
  access: AccessRule | undefined;
  /** Whether the handler reads a JSON body through @Body(). */
  readsBody: boolean;
}

function joinPaths(...parts: string[]): string {
  const joined = parts
    .flatMap((part) => part.split('/'))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}

/** Every route Nest registered, with the access decision its handler or controller carries. */
export function nestRoutes(app: INestApplication): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      if (!controller) continue;
      const prefixes = [Reflect.getMetadata(PATH_METADATA, controller) ?? ''].flat() as string[];
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (paths === undefined || method === undefined) continue;
        const access = (Reflect.getMetadata(ACCESS_METADATA, handler) ?? Reflect.getMetadata(ACCESS_METADATA, controller)) as
          | AccessRule
          | undefined;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, unknown>;
        const readsBody = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
        for (const prefix of prefixes) {
          for (const path of [paths].flat()) {
            routes.push({ method: RequestMethod[method], path: joinPaths(prefix, path), controller: controller.name, handler: name, access, readsBody });
          }
        }
      }
    }
  }
  return routes;
}

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Every route the underlying Express app serves, whoever registered it (Nest, Swagger UI, …). */
export function expressRoutes(app: INestApplication): { method: string; path: string }[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  return express.router.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).flatMap((method) =>
          [layer.route!.path].flat().map((path) => ({ method: method.toUpperCase(), path })),
        )
      : [],
  );
}

import { z } from 'zod';

/*
 * kube-scheduler's extender wire format (k8s.io/kube-scheduler/extender/v1). The keys are the Go
 * field names because the Go structs carry no json tags: `Pod`, `NodeNames`, `FailedNodes`…
 * With `nodeCacheCapable: true` the scheduler sends node names only and expects names back.
 */

/** The part of a Pod the extender reads; everything else passes through untouched. */
const podSchema = z.object({
  metadata: z
    .object({
      name: z.string().max(253).optional(),
      namespace: z.string().max(63).optional(),
      uid: z.string().max(128).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .passthrough(),
}).passthrough();

const nodeNameSchema = z.string().min(1).max(253);
const MAX_NODES = 100_000;

/**
 * NodeNames checked by hand: it is the one large field (a name per node of the cluster, every
 * call), and a per-element schema costs more than the whole decision at 5,000 nodes.
 */
const nodeNamesSchema = z.custom<string[]>(
  (value) => Array.isArray(value) && value.length <= MAX_NODES && value.every((name) => typeof name === 'string' && name.length >= 1 && name.length <= 253),
  { message: `must be an array of at most ${MAX_NODES} node names (strings of 1 to 253 characters)` },
);

/** ExtenderArgs. Without nodeCacheCapable the scheduler sends `Nodes` (a NodeList) instead. */
export const extenderArgsSchema = z
  .object({
    Pod: podSchema,
    NodeNames: nodeNamesSchema.nullish(),
    Nodes: z.object({ items: z.array(z.object({ metadata: z.object({ name: nodeNameSchema }).passthrough() }).passthrough()).max(MAX_NODES) }).passthrough().nullish(),
  })
  .refine((args) => Array.isArray(args.NodeNames) || Array.isArray(args.Nodes?.items), {
    message: 'either NodeNames (nodeCacheCapable: true) or Nodes.items is required',
    path: ['NodeNames'],
  });

export type ExtenderArgs = z.infer<typeof extenderArgsSchema>;

/** ExtenderBindingArgs: the scheduler's choice, for the extender to carry out. */
export const extenderBindingArgsSchema = z.object({
  PodName: z.string().min(1).max(253),
  PodNamespace: z.string().min(1).max(63),
  PodUID: z.string().min(1).max(128),
  Node: nodeNameSchema,
});

export type ExtenderBindingArgs = z.infer<typeof extenderBindingArgsSchema>;

/** ExtenderFilterResult. `NodeNames` answers a nodeCacheCapable scheduler; `Error` fails the pod's cycle. */
export interface ExtenderFilterResult {
  NodeNames: string[];
  FailedNodes: Record<string, string>;
  FailedAndUnresolvableNodes: Record<string, string>;
  Error: string;
}

/** One entry of a HostPriorityList. Scores run 0..10 (MaxExtenderPriority). */
export interface HostPriority {
  Host: string;
  Score: number;
}

export const MAX_EXTENDER_PRIORITY = 10;

/** The node names of ExtenderArgs, in either of its two shapes. */
export function nodeNamesOf(args: ExtenderArgs): string[] {
  return args.NodeNames ?? args.Nodes?.items.map((node) => node.metadata.name) ?? [];
}

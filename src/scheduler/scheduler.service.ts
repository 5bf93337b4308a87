import { Inject, Injectable } from '@nestjs/common';
import { WharfError } from '../common/errors/wharf-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';
import { CacheIndexService } from './cache-index.service';
import { filterNodes, ScoringConfig, scoreNodes } from './decisions';
import { ExtenderArgs, extenderArgsSchema, ExtenderFilterResult, HostPriority, nodeNamesOf } from './extender-api';
import { podModel } from './pod-model';
import { VersionCatalogService } from './version-catalog.service';

/** The extender's verbs: parse kube-scheduler's JSON, look the pod's version up, decide from the index. */
@Injectable()
export class SchedulerService {
  readonly scoring: ScoringConfig;

  constructor(
    @Inject(CacheIndexService) private readonly index: CacheIndexService,
    @Inject(VersionCatalogService) private readonly catalog: VersionCatalogService,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.scoring = {
      readyTimeoutMs: config.NODE_READY_TIMEOUT_SECONDS * 1000,
      minBytes: config.SCHEDULER_MIN_MODEL_BYTES,
      maxBytes: Math.max(config.SCHEDULER_FULL_SCORE_BYTES, config.SCHEDULER_MIN_MODEL_BYTES + 1),
      spreadFloor: config.SCHEDULER_SPREAD_FLOOR,
    };
  }

  async filter(body: unknown): Promise<ExtenderFilterResult> {
    const args = parseArgs(body);
    const names = nodeNamesOf(args);
    const result: ExtenderFilterResult = { NodeNames: names, FailedNodes: {}, FailedAndUnresolvableNodes: {}, Error: '' };
    const target = await this.target(args);
    if (target.kind === 'none') return result;
    if (target.kind === 'refused') {
      // The pod itself is wrong: no node and no preemption can help it, and its events say why.
      return { ...result, NodeNames: [], FailedAndUnresolvableNodes: Object.fromEntries(names.map((name) => [name, target.reason])) };
    }
    const outcome = filterNodes(names, (name) => this.index.get(name), target.version, target.policy, Date.now(), this.scoring);
    return { ...result, NodeNames: outcome.passed, FailedNodes: outcome.failed };
  }

  async prioritize(body: unknown): Promise<HostPriority[]> {
    const args = parseArgs(body);
    const names = nodeNamesOf(args);
    const target = await this.target(args);
    if (target.kind !== 'version') return names.map((name) => ({ Host: name, Score: 0 }));
    return scoreNodes(names, (name) => this.index.get(name), target.version, this.scoring);
  }

  private async target(args: ExtenderArgs) {
    const parsed = podModel(args.Pod.metadata.annotations);
    if (parsed.kind === 'none') return { kind: 'none' as const };
    if (parsed.kind === 'invalid') return { kind: 'refused' as const, reason: `wharf: ${parsed.reason}` };
    const version = await this.catalog.lookup(parsed.model);
    if (!version) {
      const { project, model, version: number } = parsed.model;
      return { kind: 'refused' as const, reason: `wharf: version ${project}/${model}@${number} does not exist or is not committed` };
    }
    return { kind: 'version' as const, version, policy: parsed.model.policy };
  }
}

function parseArgs(body: unknown): ExtenderArgs {
  const parsed = extenderArgsSchema.safeParse(body);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message }));
    throw new WharfError('validation_failed', `Not kube-scheduler ExtenderArgs: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { errors });
  }
  return parsed.data;
}

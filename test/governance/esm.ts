/**
 * kubernetes-models ships ES modules only; this loads them from the CommonJS test build
 * (jest runs with --experimental-vm-modules, so a real dynamic import is available).
 */
export const importEsm = new Function('specifier', 'return import(specifier)') as <T = Record<string, unknown>>(specifier: string) => Promise<T>;

export interface KubernetesModel {
  validate(): void;
}
export type KubernetesModelClass = new (data: unknown) => KubernetesModel;

/** The kubernetes-models class of an apiVersion/kind, e.g. `rbac.authorization.k8s.io/v1` `Role`. */
export async function kubernetesModel(apiVersion: string, kind: string): Promise<KubernetesModelClass> {
  const module = await importEsm<Record<string, KubernetesModelClass>>(`kubernetes-models/${apiVersion}/${kind}`);
  if (!module[kind]) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return module[kind];
}

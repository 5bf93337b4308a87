/**
 * The registry's layers (docs/architecture.md), checked by `npm run lint`.
 *
 * Each room (a folder of src/) may import its own files and the rooms listed BEFORE it, never
 * one listed after it: so rooms can never import each other in a circle. The data tier is the
 * exception that keeps this workable: every room may import another room's entities
 * (`*.entity.ts`), repositories (`*.repository.ts`) and DTO types (`dto/`), because those hold
 * no behaviour and import nothing but other data files and the cross-cutting rooms. On top of
 * that, no file may take part in an import cycle at all.
 */
const LAYERS = [
  // cross-cutting: nothing of a feature
  'config',
  'observability',
  'common',
  'database',
  'storage',
  'invalidation',
  // who is asking, and how much
  'auth',
  'ratelimit',
  'audit',
  'events',
  // tenants and their credentials
  'projects',
  'tokens',
  'token-review',
  'quota',
  // the model registry, from the model down to its bytes
  'models',
  'blobs',
  'tags',
  'versions',
  'endpoints',
  'references',
  'files',
  'uploads',
  'gc',
  // the fleet: nodes place warm-ups, warm-ups know nothing of nodes
  'warmups',
  'nodes',
  // kube-scheduler's extender reads the fleet's cache state
  'scheduler',
  // the edges: health, the web console's static files, the bundled client and CLI
  'health',
  'console',
  'client',
  'cli',
];

/** Files that hold data and no behaviour: importable from any room. */
const DATA_TIER = '(\\.entity\\.ts$|\\.repository\\.ts$|/dto/)';
/** Vocabularies the data files are written in: pure values, importing nothing of a feature. */
const VOCABULARY = '^src/(auth/roles|events/event-types)\\.ts$';

/**
 * Room cycles that exist today and are being removed by another change: the lower room may
 * still import the higher one. Each entry names its owner; the lead deletes the entry when that
 * change is merged. Keep this list empty otherwise.
 */
const ALLOWED_ROOM_CYCLES = [];

const layerRules = LAYERS.map((room, index) => ({
  name: `layer-${room}`,
  comment: `${room}/ may import only rooms listed before it in .dependency-cruiser.cjs (or their data files)`,
  severity: 'error',
  from: { path: `^src/${room}/` },
  to: {
    path: `^src/(${LAYERS.slice(index + 1).join('|')})/`,
    pathNot: [DATA_TIER, VOCABULARY, ...ALLOWED_ROOM_CYCLES.filter((cycle) => cycle.from === room).map((cycle) => `^src/${cycle.to}/`)],
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file may import itself through others: a cycle makes load order and ownership a guess.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'data-tier-stays-data',
      comment: 'Entities, repositories and DTOs import only other data files, vocabularies, their own room and the cross-cutting rooms.',
      severity: 'error',
      from: { path: `^src/([^/]+)/.*${DATA_TIER}` },
      to: { path: '^src/', pathNot: [DATA_TIER, VOCABULARY, '^src/$1/', '^src/(config|common|database)/'] },
    },
    {
      name: 'room-in-layers',
      comment: 'Every folder of src/ has its place in LAYERS (add a new room there).',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `^src/(${LAYERS.join('|')})/` },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

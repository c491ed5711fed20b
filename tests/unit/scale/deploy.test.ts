import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigSchema, loadConfig } from '../../../src/config.js';

/**
 * The deployment files, checked without Docker or a cluster (neither runs here): every Kubernetes
 * manifest against the Kubernetes API schemas (kubernetes-models, whose validators are generated from
 * the API's OpenAPI documents; ServiceMonitor from the prometheus-operator CRD), then the promises the
 * files make to each other and to the code: probe paths and ports, the drain timing, selectors, config
 * keys the app knows, files the Dockerfile and compose file refer to.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

type Obj = Record<string, unknown>;
const obj = (value: unknown, what: string): Obj => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as Obj;
};
const arr = (value: unknown, what: string): unknown[] => {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
};
/** Follows a dotted path; array items by index. */
const at = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, key) => (v === undefined || v === null ? undefined : (v as Obj)[key]), value);

/** The model class that validates each apiVersion/kind used here. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

const manifestFiles = readdirSync(join(ROOT, 'k8s')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(`k8s/${file}`)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    return { file, doc: obj(doc.toJS(), file) };
  }),
);
const byKind = (kind: string): Obj => {
  const found = manifests.filter((m) => m.doc.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return (found[0] as { doc: Obj }).doc;
};

describe('Kubernetes manifests', () => {
  it('are all valid against the Kubernetes API schemas', () => {
    expect(manifests.map((m) => m.doc.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceMonitor'],
    );
    for (const { file, doc } of manifests) {
      const Model = models[`${String(doc.apiVersion)}/${String(doc.kind)}`];
      expect(Model, `${file}: no schema for ${String(doc.apiVersion)} ${String(doc.kind)}`).toBeDefined();
      if (Model === undefined) continue;
      expect(() => new Model(doc as never).validate(), file).not.toThrow();
    }
  });

  it('has the schema check refuse a broken manifest (so the check above means something)', () => {
    const broken = structuredClone(byKind('Deployment'));
    const container = obj(arr(at(broken, 'spec.template.spec.containers'), 'containers')[0], 'container');
    (obj(arr(container.ports, 'ports')[0], 'port') as Obj).containerPort = 'three thousand';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  it('probe /readyz and /healthz on the port the app listens on, and drain within the grace period', () => {
    const deployment = byKind('Deployment');
    const config = obj(byKind('ConfigMap').data, 'configmap data');
    const container = obj(arr(at(deployment, 'spec.template.spec.containers'), 'containers')[0], 'container');
    const http = arr(container.ports, 'ports').map((p) => obj(p, 'port')).find((p) => p.name === 'http');
    expect(http?.containerPort).toBe(Number(config.PORT));
    expect(at(container, 'readinessProbe.httpGet')).toEqual({ path: '/readyz', port: 'http' });
    expect(at(container, 'livenessProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });
    expect(at(container, 'startupProbe.httpGet')).toEqual({ path: '/healthz', port: 'http' });

    const preStop = arr(at(container, 'lifecycle.preStop.exec.command'), 'preStop');
    expect(preStop[0]).toBe('sleep');
    const grace = Number(at(deployment, 'spec.template.spec.terminationGracePeriodSeconds'));
    // The node's own deadline fits in what Kubernetes allows after the preStop hook, with room to spare.
    expect(Number(preStop[1]) + Number(config.SHUTDOWN_TIMEOUT_MS) / 1000).toBeLessThan(grace);
    expect(at(deployment, 'spec.strategy.rollingUpdate.maxUnavailable')).toBe(0);
  });

  it('run as a non-root user with a read-only root filesystem and the writable places the app needs', () => {
    const pod = obj(at(byKind('Deployment'), 'spec.template.spec'), 'pod');
    expect(at(pod, 'securityContext.runAsNonRoot')).toBe(true);
    expect(Number(at(pod, 'securityContext.runAsUser'))).toBeGreaterThan(0);
    const container = obj(arr(pod.containers, 'containers')[0], 'container');
    expect(at(container, 'securityContext.readOnlyRootFilesystem')).toBe(true);
    const mounts = arr(container.volumeMounts, 'mounts').map((m) => obj(m, 'mount').mountPath);
    const config = obj(byKind('ConfigMap').data, 'configmap data');
    expect(mounts).toEqual(expect.arrayContaining([config.DATA_DIR, '/tmp', '/dev/shm']));
  });

  it('configure only settings the app knows, and the ConfigMap with the example Secret is a valid configuration', () => {
    const known = new Set(Object.keys(ConfigSchema.properties));
    const config = obj(byKind('ConfigMap').data, 'configmap data') as Record<string, string>;
    const secret = obj(byKind('Secret').stringData, 'secret data') as Record<string, string>;
    const deployment = byKind('Deployment');
    const container = obj(arr(at(deployment, 'spec.template.spec.containers'), 'containers')[0], 'container');
    const explicit = arr(container.env, 'env').map((e) => String(obj(e, 'env').name)).filter((n) => n !== 'HOME');
    for (const key of [...Object.keys(config), ...Object.keys(secret), ...explicit]) expect(known.has(key), key).toBe(true);
    expect(() => loadConfig({ ...config, ...secret, NODE_ID: 'wa-tenants-0' })).not.toThrow();
    // The Deployment reads exactly these two.
    const sources = arr(container.envFrom, 'envFrom').map((s) => obj(s, 'source'));
    expect(sources.map((s) => at(s, 'configMapRef.name') ?? at(s, 'secretRef.name'))).toEqual([
      at(byKind('ConfigMap'), 'metadata.name'),
      at(byKind('Secret'), 'metadata.name'),
    ]);
  });

  it('select the Deployment\'s pods from the Service, the PodDisruptionBudget, the autoscaler and the ServiceMonitor', () => {
    const deployment = byKind('Deployment');
    const podLabels = obj(at(deployment, 'spec.template.metadata.labels'), 'pod labels');
    const matches = (selector: unknown, labels: Obj): boolean => Object.entries(obj(selector, 'selector')).every(([k, v]) => labels[k] === v);
    const service = byKind('Service');
    expect(matches(at(service, 'spec.selector'), podLabels)).toBe(true);
    expect(matches(at(byKind('PodDisruptionBudget'), 'spec.selector.matchLabels'), podLabels)).toBe(true);
    expect(at(byKind('HorizontalPodAutoscaler'), 'spec.scaleTargetRef')).toMatchObject({ kind: 'Deployment', name: at(deployment, 'metadata.name') });
    const monitor = byKind('ServiceMonitor');
    expect(matches(at(monitor, 'spec.selector.matchLabels'), obj(at(service, 'metadata.labels'), 'service labels'))).toBe(true);
    const servicePorts = arr(at(service, 'spec.ports'), 'ports').map((p) => obj(p, 'port'));
    const endpoint = obj(arr(at(monitor, 'spec.endpoints'), 'endpoints')[0], 'endpoint');
    expect(servicePorts.map((p) => p.name)).toContain(endpoint.port);
    expect(endpoint.path).toBe('/metrics');
    expect(servicePorts.find((p) => p.name === 'http')?.targetPort).toBe('http');
  });

  it('are all listed in the kustomization (but the Secret example), with the Grafana dashboard as a ConfigMap', () => {
    const kustomization = obj(parse(read('k8s/kustomization.yaml')), 'kustomization');
    expect([...arr(kustomization.resources, 'resources')].sort()).toEqual(manifestFiles.filter((f) => f !== 'secret.example.yaml').sort());
    const generator = obj(arr(kustomization.configMapGenerator, 'generators')[0], 'generator');
    const files = arr(generator.files, 'files').map(String);
    for (const file of files) expect(() => JSON.parse(read(`k8s/${file}`)), file).not.toThrow();
  });
});

describe('docker-compose.yml', () => {
  const compose = obj(parse(read('docker-compose.yml'), { merge: true }), 'compose');
  const services = obj(compose.services, 'services');
  /** `${VAR:-default}` as compose resolves it with VAR unset. */
  const resolve = (value: unknown): string => String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

  it('runs two app nodes on one PostgreSQL and one Redis, with Prometheus and Grafana', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['app1', 'app2', 'postgres', 'redis', 'prometheus', 'grafana']));
    for (const name of ['app1', 'app2']) {
      const env = obj(obj(services[name], name).environment, `${name} environment`);
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, resolve(v)]));
      expect(Object.keys(resolved).every((k) => k in ConfigSchema.properties), name).toBe(true);
      const config = loadConfig(resolved);
      expect(config.REDIS_URL).toBe('redis://redis:6379');
      expect(config.DATABASE_URL).toMatch(/@postgres:5432\//);
      expect(config.NODE_ID).toBe(name);
    }
  });

  it('refers only to services, volumes and files that exist, and publishes distinct ports', () => {
    const volumes = new Set(Object.keys(obj(compose.volumes, 'volumes')));
    const published: string[] = [];
    for (const [name, raw] of Object.entries(services)) {
      const service = obj(raw, name);
      const deps = service.depends_on === undefined ? [] : Array.isArray(service.depends_on) ? service.depends_on : Object.keys(obj(service.depends_on, 'depends_on'));
      for (const dep of deps) expect(Object.keys(services), `${name} depends on ${String(dep)}`).toContain(dep);
      for (const mount of (service.volumes as string[] | undefined) ?? []) {
        const source = mount.split(':')[0] as string;
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
        else expect(volumes.has(source), `${name}: volume ${source}`).toBe(true);
      }
      for (const port of (service.ports as string[] | undefined) ?? []) published.push(port.split(':')[0] as string);
    }
    expect(new Set(published).size).toBe(published.length);
  });

  it('has Prometheus scrape /metrics of both app nodes', () => {
    const prometheus = obj(parse(read('deploy/compose/prometheus.yml')), 'prometheus');
    const job = obj(arr(prometheus.scrape_configs, 'scrape configs')[0], 'job');
    expect(job.metrics_path).toBe('/metrics');
    const targets = arr(at(arr(job.static_configs, 'static')[0], 'targets'), 'targets');
    expect(targets).toEqual(['app1:3000', 'app2:3000']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));

  it('builds from files that exist and that .dockerignore lets into the context', () => {
    const copies = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    const sources = copies.flatMap((l) => l.split(/\s+/).slice(1, -1)).filter((s) => s !== '.');
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', '.puppeteerrc.cjs', 'patches']));
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    for (const needed of ['src', 'web', 'scripts', 'tsconfig.json']) {
      expect(existsSync(join(ROOT, needed)), needed).toBe(true);
      expect(ignored, needed).not.toContain(needed);
    }
    // `npm run build` builds the console and the server (scripts/build-server.ts -> build/src).
    expect(instructions.some((l) => l.startsWith('RUN npm run build'))).toBe(true);
    expect(JSON.parse(read('package.json')).scripts.build).toContain('scripts/build-server.ts');
  });

  it('runs the compiled server as a non-root user behind an init process, with a health check', () => {
    const last = (prefix: string): string | undefined => instructions.filter((l) => l.startsWith(prefix)).at(-1);
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBe(2);
    expect(last('USER ')).toBe('USER node');
    expect(last('ENTRYPOINT ')).toBe('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(last('CMD ')).toBe('CMD ["node", "src/main.js"]');
    // build/src mirrors src: the entry the CMD names is compiled from src/main.ts.
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true);
    expect(last('HEALTHCHECK ')).toContain('/healthz');
    expect(instructions.some((l) => l.includes('apt-get install') && l.includes('chromium'))).toBe(true);
    expect(last('STOPSIGNAL ')).toBe('STOPSIGNAL SIGTERM');
  });
});

// End-to-end: the real `host` command as a subprocess, on the built dist/ and plugins
// (`npm test` builds both first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');
const quickstart = join(root, 'examples/quickstart');

function host(args: string[], cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'))) {
  const result = spawnSync(process.execPath, [join(root, 'host/bin/host.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, WEIR_CACHE_DIR: cacheDir },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * A copy of examples/quickstart in a temp folder (plugins still from the repo's plugins/), so the
 * run writes its out/ there and never into the working tree.
 */
function quickstartCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-quickstart-'));
  cpSync(quickstart, dir, { recursive: true, filter: (from) => !from.startsWith(join(quickstart, 'out')) });
  const pipeline = JSON.parse(readFileSync(join(quickstart, 'pipeline.json'), 'utf8')) as { plugins: { dir: string } };
  pipeline.plugins.dir = join(root, 'plugins');
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(pipeline));
  return dir;
}

const logLines = (stderr: string) =>
  stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('host run (quickstart)', () => {
  it('runs the quickstart through both plugins, writes the expected output and summary, and caches transpilation', () => {
    const work = quickstartCopy();
    const repoOutput = existsSync(join(quickstart, 'out/output.jsonl')) ? readFileSync(join(quickstart, 'out/output.jsonl')) : undefined;
    const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));
    const summaryFile = join(mkdtempSync(join(tmpdir(), 'weir-summary-')), 'summary.json');

    const first = host(['run', join(work, 'pipeline.json'), '--summary-json', summaryFile], cacheDir);
    expect(first.stderr).toContain('pipeline "quickstart" completed');
    expect(first.code).toBe(0);
    expect(readFileSync(join(work, 'out/output.jsonl'), 'utf8')).toBe(readFileSync(join(quickstart, 'expected.jsonl'), 'utf8'));
    // The repository's own examples/quickstart/out is left as it was.
    expect(existsSync(join(quickstart, 'out/output.jsonl')) ? readFileSync(join(quickstart, 'out/output.jsonl')) : undefined).toEqual(repoOutput);

    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { status: string; totals: Record<string, number>; nodes: Array<{ id: string; in: number; out: number; errors: number }> };
    expect(summary.status).toBe('completed');
    expect(summary.totals).toMatchObject({ read: 6, written: 4, errors: 0 });
    expect(summary.nodes.map((n) => [n.id, n.in, n.out, n.errors])).toEqual([
      ['events', 0, 6, 0],
      ['drop-debug', 6, 4, 0],
      ['shout', 4, 4, 0],
      ['output', 4, 4, 0],
    ]);

    const firstLoads = logLines(first.stderr).filter((l) => l.node === 'shout' && l.binary === 'component');
    expect(firstLoads).toEqual([expect.objectContaining({ cacheHit: false, msg: 'plugin transpiled and cached' })]);
    // Plugins log through the host's logger, tagged with node and plugin.
    expect(logLines(first.stderr)).toContainEqual(expect.objectContaining({ node: 'drop-debug', plugin: 'filter-as.wasm', source: 'plugin' }));

    const second = host(['run', join(work, 'pipeline.json')], cacheDir);
    expect(second.code).toBe(0);
    const secondLoads = logLines(second.stderr).filter((l) => l.node === 'shout' && l.binary === 'component');
    expect(secondLoads).toEqual([expect.objectContaining({ cacheHit: true, transpileMs: 0, msg: 'plugin loaded from the transpile cache' })]);
  });

  it('refuses to run an invalid pipeline, runs nothing, and exits 2', () => {
    const result = host(['run', 'host/test/fixtures/bad-configs/five-mistakes/pipeline.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('5 problems');
    expect(result.stderr).toContain('nothing was run');
  });

  it('exits 1 with the error when a node fails at run time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-fail-'));
    const pipeline = join(dir, 'p.json');
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, '{"value":"ok"}\nnot json\n');
    writeFileSync(pipeline, JSON.stringify({
      name: 'broken-input',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['in'] },
      ],
    }));
    const result = host(['run', pipeline]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error WEIR_PIPELINE_FAILED: node "in" failed: .*in\.jsonl:2: the line is not valid JSON/);
  });
});

describe('host validate', () => {
  it('lists all five mistakes with JSON pointers and hints', () => {
    const result = host(['validate', 'host/test/fixtures/bad-configs/five-mistakes/pipeline.json']);
    expect(result.code).toBe(2);
    const pointers = result.stdout.split('\n').filter((l) => l.startsWith('  /')).map((l) => l.trim().split(':')[0]);
    expect(pointers).toEqual(['/nodes/0/kind', '/nodes/1/limits/memoryMb', '/nodes/1/plugin', '/nodes/2/inputs/0', '/nodes/4/inputs/0']);
    expect(result.stdout).toContain('hint: known node ids: events, clean, shout, out, again');
  });

  it('prints JSON with --json and accepts the quickstart', () => {
    const bad = host(['validate', '--json', 'host/test/fixtures/bad-configs/wiring/pipeline.json']);
    const parsed = JSON.parse(bad.stdout) as { ok: boolean; problems: Array<{ pointer: string }> };
    expect(parsed.ok).toBe(false);
    expect(parsed.problems).toHaveLength(4);
    const good = host(['validate', 'examples/quickstart/pipeline.json']);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('valid (4 nodes)');
  });
});

describe('host inspect', () => {
  it('describes a component and a core module', () => {
    const component = host(['inspect', 'plugins/uppercase-js.wasm']);
    expect(component.code).toBe(0);
    expect(component.stdout).toMatch(/binary: +component/);
    expect(component.stdout).toMatch(/fits: +processor\n/);
    expect(component.stdout).toMatch(/sha256: +[0-9a-f]{64}/);
    expect(component.stdout).toContain('weir:plugin/log');
    expect(component.stdout).toContain('not a sink: missing exports "open", "write", "flush"');

    // Each reason is said once, with every kind it rules out.
    const coreText = host(['inspect', 'plugins/filter-as.wasm']).stdout;
    expect(coreText).toMatch(/^not a source, sink or service: core modules can fill processor nodes only/m);
    expect(coreText.match(/core modules can fill processor nodes only/g)).toHaveLength(1);
    const core = JSON.parse(host(['inspect', '--json', 'plugins/filter-as.wasm']).stdout) as { binary: string; fits: string[] };
    expect(core).toMatchObject({ binary: 'module', fits: ['processor'] });
  });

  it('fails clearly on a file that is not wasm', () => {
    const result = host(['inspect', 'package.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('WEIR_PLUGIN_INVALID_BINARY');
  });
});

describe('host help and usage', () => {
  it.each(['run', 'validate', 'inspect'])('host %s --help exits 0 and shows usage', (command) => {
    const result = host([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: host ${command}`);
  });

  it('lists commands, and rejects unknown commands and options with exit 3', () => {
    expect(host(['--help']).stdout).toContain('Commands:');
    expect(host(['frobnicate']).code).toBe(3);
    const badOption = host(['run', '--no-such-option', 'x.json']);
    expect(badOption.code).toBe(3);
    expect(badOption.stderr).toContain('see host run --help');
  });
});

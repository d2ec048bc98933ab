/**
 * `host new`: a new plugin folder from the templates under
 * `sdk/<language>/templates/<kind>/`. Each template is a plugin that builds
 * and passes its own sample (`sample/input.jsonl` -> `sample/expected.jsonl`),
 * so `host new`, `host build` and `host test` work end to end from the start.
 *
 * Templates hold two placeholders: `{{name}}` and `{{sdk}}`, the SDK folder as
 * a relative import path from the new plugin's source.
 */
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { REPO_ROOT } from './plugin-build.js';
import type { PluginLanguage } from './plugin-manifest.js';
import type { PluginKind } from '../contract/plugin.js';
import { WeirError } from '../errors/errors.js';

/** The SDK folder, template folder and kinds of each language. */
const LANGUAGES: Readonly<Record<PluginLanguage, { sdk: string; templates: string; kinds: readonly PluginKind[]; sourceDir: string }>> = {
  js: { sdk: 'sdk/js/src', templates: 'sdk/js/templates', kinds: ['processor', 'source', 'sink', 'service', 'aggregator'], sourceDir: '.' },
  as: { sdk: 'sdk/assemblyscript/assembly', templates: 'sdk/assemblyscript/templates', kinds: ['processor', 'aggregator'], sourceDir: 'assembly' },
  rust: { sdk: 'sdk/rust/weir', templates: 'sdk/rust/templates', kinds: ['processor', 'service', 'aggregator'], sourceDir: '.' },
};

/** What to create. */
export interface ScaffoldOptions {
  kind: PluginKind;
  name: string;
  lang: PluginLanguage;
  /** The new folder; must not exist yet (or be empty). */
  dir: string;
}

/** Creates the plugin folder; returns the files written, relative to it. */
export async function scaffoldPlugin(options: ScaffoldOptions): Promise<string[]> {
  const { kind, name, lang, dir } = options;
  const language = LANGUAGES[lang];
  if (!language) throw new WeirError('WEIR_USAGE', `unknown language "${lang}" (languages: ${Object.keys(LANGUAGES).join(', ')})`);
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new WeirError('WEIR_USAGE', `plugin name "${name}" must be lowercase letters, digits and -, starting with a letter`);
  if (!language.kinds.includes(kind)) {
    const kinds = `${language.kinds.slice(0, -1).join(', ')} or ${language.kinds.at(-1)}`;
    throw new WeirError('WEIR_USAGE', `${lang} plugins can be ${kinds} here (for a ${kind}, use --lang js)`);
  }
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) throw new WeirError('WEIR_USAGE', `${dir} already exists and is not empty; choose another name or folder`);

  const template = join(REPO_ROOT, language.templates, kind);
  const sourceDir = join(dir, language.sourceDir);
  const sdk = relative(sourceDir, join(REPO_ROOT, language.sdk)).split(sep).join('/');
  const files = await listFiles(template);
  for (const file of files) {
    const target = join(dir, file);
    await mkdir(dirname(target), { recursive: true });
    if (/\.(js|ts|rs|toml|json|md)$/.test(file)) {
      const text = await readFile(join(template, file), 'utf8');
      await writeFile(target, text.replaceAll('{{name}}', name).replaceAll('{{sdk}}', sdk.startsWith('.') ? sdk : `./${sdk}`));
    } else {
      await cp(join(template, file), target);
    }
  }
  const readme = readmeFor(name, kind, lang, dir);
  await writeFile(join(dir, 'README.md'), readme);
  return [...files, 'README.md'].sort();
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, prefix))) {
    const path = join(prefix, entry);
    if ((await stat(join(root, path))).isDirectory()) files.push(...(await listFiles(root, path)));
    else files.push(path);
  }
  return files;
}

function readmeFor(name: string, kind: PluginKind, lang: PluginLanguage, dir: string): string {
  const folder = relative(process.cwd(), dir) || '.';
  const method = kind === 'service' ? ' --method upper' : '';
  const sdkReadme = { js: 'sdk/js/README.md', as: 'sdk/assemblyscript/README.md', rust: 'sdk/rust/README.md' }[lang];
  const language = { js: 'JavaScript', as: 'AssemblyScript', rust: 'Rust' }[lang];
  return `# ${name}

A Weir ${kind} plugin in ${language}, made by \`host new\`.${lang === 'rust' ? ' Building needs rustc with the wasm32 standard library (see the SDK README).' : ''}

- Build: \`host build ${folder}\` writes \`${name}.wasm\` next to this folder.
- Test: \`host test ${folder} --input ${folder}/sample/input.jsonl --expect ${folder}/sample/expected.jsonl${method}\`
  runs the plugin on the sample records and shows a diff on a mismatch.${kind === 'processor' ? `
- Hot reload: a new build of this processor that lands in a running pipeline's
  plugins folder serves only once it gives \`sample/expected.jsonl\` for
  \`sample/input.jsonl\` (with the config in \`sample/config.json\`, else \`{}\`).` : ''}
- Use it in a pipeline: ${kind === 'aggregator'
    ? `\`{ "id": "${name}", "kind": "processor", "plugin": "${name}.wasm", "window": { "type": "tumbling", "sizeMs": 60000 } ... }\`
  (a windowed processor; \`host test\` runs it in a one-minute tumbling window unless \`--window\` says otherwise)`
    : `\`{ "id": "${name}", "kind": "${kind}", "plugin": "${name}.wasm" ... }\``}
  (plugins are looked up in the pipeline's \`plugins.dir\`).

The contract is \`wit/plugin.wit\` (world "${kind}"); the SDK is described in
\`${sdkReadme}\`. Limits (memory cap, CPU budget) and capabilities are set per
node in pipeline.json (docs/pipeline.md).
`;
}

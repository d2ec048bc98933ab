/**
 * The plugin watcher survives a failure of watching itself: chokidar reports
 * errors (inotify's watch limit, ENOSPC) as an `error` event, which throws
 * from the emitter when nobody listens. It must reach `onError` instead.
 */
import { describe, expect, it, vi } from 'vitest';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watch } from 'chokidar';
import type { FSWatcher } from 'chokidar';
import { PluginWatcher } from '../../src/reload/plugin-watcher.js';

describe('PluginWatcher', () => {
  it('hands a watch failure to onError, with a hint for the watch limit, instead of throwing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-watch-'));
    const file = join(dir, 'p.wasm');
    await writeFile(file, 'v1');
    let chokidar: FSWatcher | undefined;
    const failures: Array<{ error: unknown; message: string; folders: readonly string[] }> = [];
    const watcher = await PluginWatcher.start([file], () => {}, 20, {
      onError: (error, message, folders) => failures.push({ error, message, folders }),
      watch: (paths, options) => (chokidar = watch(paths, options)),
    });
    try {
      const limit = Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
      expect(() => chokidar!.emit('error', limit)).not.toThrow();
      expect(failures).toHaveLength(1);
      expect(failures[0]!.error).toBe(limit);
      expect(failures[0]!.folders).toEqual([dir]);
      expect(failures[0]!.message).toContain(`watching ${dir} for new plugin builds failed`);
      expect(failures[0]!.message).toContain('fs.inotify.max_user_watches');
    } finally {
      await watcher.close();
    }
  });
});

describe('PluginWatcher in a busy folder', () => {
  it('is neither told of nor woken by the other files of a watched folder (a sink writing its output next to the pipeline file)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-watch-'));
    const plugin = join(dir, 'p.wasm');
    const output = join(dir, 'out.jsonl');
    await writeFile(plugin, 'v1');
    await writeFile(output, 'first line\n');
    let chokidar: FSWatcher | undefined;
    const seen: string[] = [];
    const raw: string[] = [];
    const changed: string[] = [];
    const watcher = await PluginWatcher.start([plugin], (file) => changed.push(file), 20, {
      watch: (paths, options) => {
        chokidar = watch(paths, options);
        chokidar.on('all', (_event, path) => seen.push(path));
        // What reaches the process at all: an inotify watch of the folder would see every write to the output.
        chokidar.on('raw', (_event, path: string) => raw.push(path));
        return chokidar;
      },
    });
    try {
      expect(chokidar!.getWatched()[dir]).toEqual(['p.wasm']);
      for (let i = 0; i < 5; i++) await appendFile(output, `line ${i}\n`);
      // The plugin's change, written after the output's, is reported: by then the output's would have been too.
      await writeFile(plugin, 'v2');
      await vi.waitFor(() => expect(changed).toEqual([plugin]), { timeout: 5000, interval: 10 });
      expect(seen.filter((path) => path !== plugin)).toEqual([]);
      expect(raw.filter((path) => path.endsWith('out.jsonl'))).toEqual([]);
      expect(chokidar!.getWatched()[dir]).toEqual(['p.wasm']);
    } finally {
      await watcher.close();
    }
  });

  it('reports a file added later in a folder it already watches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-watch-'));
    const plugin = join(dir, 'p.wasm');
    const later = join(dir, 'q.wasm');
    await writeFile(plugin, 'v1');
    await writeFile(later, 'v1');
    const changed: string[] = [];
    const watcher = await PluginWatcher.start([plugin], (file) => changed.push(file), 20);
    try {
      watcher.add([later]);
      await writeFile(later, 'v2');
      await vi.waitFor(() => expect(changed).toEqual([later]), { timeout: 5000, interval: 10 });
    } finally {
      await watcher.close();
    }
  });
});

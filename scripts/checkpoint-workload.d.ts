// Types of checkpoint-workload.js (plain JavaScript so scripts and the bench run it without a build).
import type { ChildProcess } from 'node:child_process';

export const root: string;
export const hostBin: string;
export const OUTPUTS: readonly string[];

export interface InputOptions { keys?: number; stepMs?: number; roundsPerWindow?: number; seed?: number; shuffle?: boolean }
export interface WindowSettings { type: 'tumbling'; sizeMs: number; allowedLatenessMs: number }
export type WorkloadSource = { kind: 'file'; path: string } | { kind: 'stdin' } | { kind: 'plugin'; plugin: string; config?: object };
export interface CheckpointBlock { intervalMs?: number; dir?: string; delivery?: 'exactly-once' | 'at-least-once' | 'none' }
export interface WorkloadOptions {
  name: string;
  source?: WorkloadSource;
  checkpoint?: CheckpointBlock;
  parallelism?: number;
  windowed?: boolean;
  window?: WindowSettings;
  input?: InputOptions;
  batch?: { maxRecords?: number; lingerMs?: number };
  countId?: string;
  countPlugin?: string;
  windowPlugin?: string;
}

export function seededRandom(seed: number): () => number;
export function workloadWindow(options?: InputOptions): WindowSettings;
export function inputLines(from: number, to: number, options?: InputOptions): string;
export function writeInput(file: string, records: number, options?: InputOptions): Promise<void>;
export function workloadPipeline(options: WorkloadOptions): { name: string; nodes: object[] };
export function pipelineDir(prefix?: string): string;
export function writePipeline(dir: string, pipeline: object): string;
export function checkpointDb(dir: string, name: string): string;
export function fileSize(file: string): number;
export function hasCheckpoint(dir: string, name: string): boolean;

export interface HostExit { code: number | null; signal: NodeJS.Signals | null }
export interface HostRun { child: ChildProcess; exited: Promise<HostExit>; output(): string; done(): boolean }
export interface HostRunOptions { args?: string[]; stdinFile?: string; cacheDir?: string; logLevel?: string }
export function startHost(pipelineFile: string, options?: HostRunOptions): HostRun;
export function untilOrExit(run: HostRun, condition: () => boolean | Promise<boolean>, everyMs?: number): Promise<boolean>;
export function checkpointCompleted(dbFile: string, node?: string): Promise<boolean>;

export function killPoints(random: () => number, kills: number, low?: number, high?: number): number[];
export function committedSinkBytes(dbFile: string, node: string): Promise<number | undefined>;

export interface LoopRun<I> { killed: boolean; startBytes: number; killedAt?: number; endBytes: number; exit: HostExit; info?: I; output: string; read?: number | undefined }
export function readCount(summaryFile: string): number | undefined;
export interface KillLoopOptions<I> {
  pipelineFile: string;
  watch: string;
  finalBytes: number;
  points: number[];
  signal?: NodeJS.Signals;
  ready?: () => boolean | Promise<boolean>;
  beforeKill?: (k: number) => Promise<I> | I;
  runOptions?: HostRunOptions | ((k: number) => HostRunOptions);
}
export function killLoop<I = undefined>(options: KillLoopOptions<I>): Promise<Array<LoopRun<I>>>;
export function parseLines(text: string, file?: string): Array<{ key?: string; value: string; headers?: Record<string, string>; eventTime?: number }>;
export function duplicatesPerKill(text: string, killedAt: number[], records: number): { perKill: number[]; missing: number[]; distinct: number; problems: string[] };
export function repeatBounds(counts: Buffer, killed: Array<LoopRun<number | undefined>>): Array<{ bound: number; how: string }>;
export function pluginSourceLog(output: string, node?: string): { opened: number | undefined; acked: number[] };
export function ackProblems(runs: Array<{ output: string }>, node?: string): string[];

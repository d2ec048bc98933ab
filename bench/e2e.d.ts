// Types of bench/e2e.js for the tests (host/test/bench) that check the harness.

/** One path of the file-to-file table: the node arguments of a run that reads `input` and writes `output`. */
export interface FileToFilePath {
  id: string;
  label: string;
  args(input: string, output: string, dir: string): string[];
  /** Its output may hold the reference's lines in another order (a parallel node). */
  anyOrder?: boolean;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export type FileToFileRow =
  | { id: string; label: string; records: number; runs: number; wallMs: Spread; peakRssMiB: Spread; recordsPerSec: number; vsPlain: number; error?: undefined }
  | { id: string; label: string; records: number; error: string };

export const hostBin: string;
export function hostRunArgs(dir: string, pipeline: object, extra?: string[]): string[];
export function fileToFilePaths(options: { extismWasm: string }): FileToFilePath[];
export function runFileToFile(paths: FileToFilePath[], options: { workDir: string; records: number; runs: number; warmUp?: boolean; log: (line: string) => void }): Promise<FileToFileRow[]>;
export function runFlatMemory(options: { workDir: string; counts: number[]; log: (line: string) => void }): Promise<Array<{ records: number; peakRssMiB: number; wallMs: number }>>;

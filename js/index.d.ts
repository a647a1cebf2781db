import type { PyodideAPI } from "pyodide";

/** Version of the bundled Python loader (emwheel_loader). */
export declare const LOADER_VERSION: string;

/** Thrown when the loader cannot be applied (for example an unsupported Pyodide). */
export declare class EmwheelLoaderError extends Error {}

export interface PatchOptions {
  /** Check each library's sha256 against the manifest before loading it. Default true. */
  verifyHashes?: boolean;
  /**
   * How long a module whose library another wheel provides waits for that wheel to be
   * unpacked, in milliseconds. Default 1000.
   */
  providerGraceMs?: number;
  /**
   * Load shared libraries (and modules over 8 MiB) at install time, and extension modules
   * when Python first imports them. Default false.
   */
  lazy?: boolean;
}

export interface PatchHandle {
  version: string;
  /** Restore stock behaviour; libraries already loaded stay loaded. */
  deactivate(): void;
}

/**
 * Make `pyodide` load every wheel installed from now on by its emwheel manifest (shared
 * libraries globally and first, extension modules locally, with clear errors).
 * Activating twice is harmless.
 */
export declare function patchPyodide(
  pyodide: PyodideAPI,
  options?: PatchOptions,
): Promise<PatchHandle>;

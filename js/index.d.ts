import type { PyodideAPI } from "pyodide";

/** Version of the bundled Python loader (emwheel_loader). */
export declare const LOADER_VERSION: string;

/** Thrown when the loader cannot be applied (for example an unsupported Pyodide). */
export declare class EmwheelLoaderError extends Error {}

export interface PatchOptions {
  /**
   * Check every WebAssembly file the manifest lists, none loaded before its own check
   * passed: its CRC-32 as zipfile checked it while unpacking, against the manifest's; for
   * an older (version 1) manifest its sha256 (WebCrypto where it exists, else hashlib in
   * Pyodide). Default true.
   */
  verifyHashes?: boolean;
  /**
   * How long a module whose library another wheel provides waits for that wheel to be
   * unpacked, in milliseconds. Default 1000.
   */
  providerGraceMs?: number;
  /**
   * Load shared libraries (and modules over 8 MiB) at install time, and extension modules
   * when Python first imports them. Default true; `false` loads every module at install
   * time (see docs/loader.md, "Lazy or eager").
   */
  lazy?: boolean;
}

/** The loader's own work on one installed wheel (seconds of wall time). */
export interface InstallTimings {
  wheel: string;
  /** WebAssembly files the manifest lists. */
  modules: number;
  /** Of those, loaded by the installer; the rest are loaded on first import. */
  loadedAtInstall: number;
  /** How the files were checked (docs/loader.md, "The integrity check"). */
  hashMethod: "crc32" | "webcrypto" | "hashlib" | "crc32+webcrypto" | "crc32+hashlib" | "off";
  /** Files checked by their CRC-32. */
  crcChecked: number;
  /** Bytes checked by sha256. */
  hashedBytes: number;
  /** Finding the manifest through RECORD, reading and parsing it. */
  manifestSeconds: number;
  /** Every file: inside the install folder, size, header, NEEDED list, CRC-32. */
  checksSeconds: number;
  /** What the install waited for the sha256 of the files the CRC-32 could not check. */
  hashingSeconds: number;
  /**
   * From the first digest's start to the last one's end; with WebCrypto the digests run
   * while Emscripten loads, so most of this is not waited for.
   */
  hashingWallSeconds: number;
  /** Load order, lookup names, handing the plan to the dlopen hook. */
  planningSeconds: number;
  /** The dlopen hook's bookkeeping around each load. */
  hookSeconds: number;
  /** Emscripten's loads of the planned modules (not the loader's own work). */
  loadingSeconds: number;
  /**
   * Of loadingSeconds: Emscripten listing the GOT's entries in its walk after each load (as
   * in stock Pyodide); the hook's settling of them is in hookSeconds.
   */
  gotListingSeconds: number;
  /** The sum of the loader's own steps (manifest to hook). */
  ownSeconds: number;
}

export interface PatchHandle {
  version: string;
  /** Restore stock behaviour; libraries already loaded stay loaded. */
  deactivate(): void;
  /** One entry per wheel installed with a manifest since patching, in install order. */
  installTimings(): InstallTimings[];
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

// defineConfig: the identity function a sam.config.ts wraps its object in, for types and editor
// completion (the file-format type, so every optional field stays optional).

import type { SamConfigInput } from "./schema.ts"

/**
 * Types a SAM config object; returns it unchanged.
 *
 * @example
 * // sam.config.ts
 * import { defineConfig } from "sam"
 * export default defineConfig({
 *   services: { db: { deployment: { mode: "process", command: "postgres" }, restart_policy: "always" } },
 * })
 */
export const defineConfig = (config: SamConfigInput): SamConfigInput => config

// defineConfig: an identity function whose only job is types and editor completion for
// sam.config.ts (like Vite's). A plain object default export works the same.
import type { SamConfigInput } from "./schema.ts"

/**
 * Type your SAM config.
 * @example
 * export default defineConfig({ services: { api: { deployment: { mode: "process", command: "node", args: ["api.js"] } } } })
 */
export const defineConfig = (config: SamConfigInput): SamConfigInput => config

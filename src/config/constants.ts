// File and directory names of the config layout. Kept free of imports so the CLI can read them
// without loading the schema machinery.

export const DEFAULT_CONFIG_FILE = "sam.config.ts"
/** Optional layers looked up beside the main config file, in merge order around it. */
export const DEFAULTS_FILE = "defaults.json"
export const SYSTEM_FILE = "system.yaml"
export const LOCAL_OVERRIDES_FILE = "local-overrides.yaml"
/** SAM's state directory, relative to the main config file. */
export const DEFAULT_STATE_DIR = ".sam"
/** The shortest API token SAM accepts (configured or generated), counted after secrets resolve. */
export const MIN_API_TOKEN_LENGTH = 16
